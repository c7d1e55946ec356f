import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION, EVENT_STREAM_MAX_AGE_MS, eventExpired, pruneCutoffs, watchExpired } from './retention.js';

describe('watchExpired', () => {
  it.each([
    ['nothing compacted yet', '5', '0', false],
    ['resuming exactly at the compaction point (every later change is kept)', '100', '100', false],
    ['resuming after it', '101', '100', false],
    ['resuming from before it (changes it needs are gone)', '99', '100', true],
    ['resuming from the very start after a compaction', '1', '100', true],
    ['versions beyond 2^53 compare exactly', '9007199254740993', '9007199254740994', true],
  ])('%s: from %s, compacted through %s -> %s', (_, from, compacted, expired) => {
    expect(watchExpired(from, compacted)).toBe(expired);
  });
});

describe('pruneCutoffs', () => {
  const now = new Date('2026-12-06T12:00:00.000Z');
  it.each([
    ['changeLogMs', '2026-12-06T11:45:00.000Z'],
    ['eventsMs', '2026-12-06T11:00:00.000Z'],
    ['auditMs', '2026-09-07T12:00:00.000Z'],
    ['outboxSentMs', '2026-12-05T12:00:00.000Z'],
    ['receiptsMs', '2026-11-28T12:00:00.000Z'],
  ] as const)('with the defaults, %s prunes what was last touched before %s', (record, cutoff) => {
    expect(pruneCutoffs(now, DEFAULT_RETENTION)[record].toISOString()).toBe(cutoff);
  });

  it('a retention setting moves only its own cutoff', () => {
    const cutoffs = pruneCutoffs(now, { ...DEFAULT_RETENTION, auditMs: 1000 });
    expect(cutoffs.auditMs.toISOString()).toBe('2026-12-06T11:59:59.000Z');
    expect(cutoffs.eventsMs.toISOString()).toBe('2026-12-06T11:00:00.000Z');
  });

  it('receipts outlive the event stream, so a redelivered event still finds its receipt', () => {
    expect(DEFAULT_RETENTION.receiptsMs).toBeGreaterThan(EVENT_STREAM_MAX_AGE_MS);
  });
});

describe('eventExpired', () => {
  const cutoff = new Date('2026-12-06T11:00:00.000Z');
  it.each([
    ['last seen before the cutoff', '2026-12-06T10:59:59.999Z', true],
    ['last seen exactly at the cutoff', '2026-12-06T11:00:00.000Z', false],
    ['repeated since (lastTimestamp moved on)', '2026-12-06T11:30:00.000Z', false],
    ['an offset timestamp compares by instant', '2026-12-06T12:59:00+02:00', true],
  ])('%s: %s -> %s', (_, lastTimestamp, expired) => {
    expect(eventExpired(lastTimestamp, cutoff)).toBe(expired);
  });
});
