import { describe, expect, it } from 'vitest';
import { admitAnonymousAudit, commandPrunable, runPrunable, DEFAULT_RETENTION, EVENT_STREAM_MAX_AGE_MS, eventExpired, pruneCutoffs, watchExpired } from './retention.js';

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
    ['commandsMs', '2026-11-06T12:00:00.000Z'],
    ['runsMs', '2026-11-06T12:00:00.000Z'],
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

describe('commandPrunable', () => {
  const cutoff = new Date('2026-11-06T12:00:00.000Z');
  it.each([
    ['SUCCEEDED', '2026-11-01T00:00:00.000Z', true],
    ['FAILED', '2026-11-01T00:00:00.000Z', true],
    ['REJECTED', '2026-11-06T11:59:59.999Z', true],
    ['SUCCEEDED', '2026-11-06T12:00:00.000Z', false],
    ['SUCCEEDED', '2026-12-01T00:00:00.000Z', false],
    ['SUCCEEDED', undefined, false],
    ['RUNNING', '2026-11-01T00:00:00.000Z', false],
    ['DISPATCHED', '2026-11-01T00:00:00.000Z', false],
    ['PENDING', undefined, false],
  ] as const)('a %s command finished at %s may go: %s', (state, finishedAt, expected) => {
    expect(commandPrunable(state, finishedAt, cutoff)).toBe(expected);
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

describe('admitAnonymousAudit', () => {
  const at = (second: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, 0) + second * 1000);
  const minute = Math.floor(at(0).getTime() / 60_000);
  it.each([
    ['the first request of a minute', undefined, 0, true, { minute, rows: 1, counted: 0 }, undefined],
    ['below the limit', { minute, rows: 1, counted: 0 }, 30, true, { minute, rows: 2, counted: 0 }, undefined],
    ['at the limit: only counted', { minute, rows: 2, counted: 0 }, 30, false, { minute, rows: 2, counted: 1 }, undefined],
    ['counted on', { minute, rows: 2, counted: 7 }, 59, false, { minute, rows: 2, counted: 8 }, undefined],
    ['a new minute closes one with counted requests', { minute, rows: 2, counted: 8 }, 60, true, { minute: minute + 1, rows: 1, counted: 0 }, { minute, rows: 2, counted: 8 }],
    ['a new minute after one without counted requests closes nothing', { minute, rows: 2, counted: 0 }, 125, true, { minute: minute + 2, rows: 1, counted: 0 }, undefined],
  ] as const)('%s', (_, current, second, ownRow, next, closed) => {
    expect(admitAnonymousAudit(current, at(second), 2)).toEqual({ ownRow, minute: next, closed });
  });

  it('a flood of 10 000 requests in a minute makes 2 rows of their own and 1 count', () => {
    let tally: Parameters<typeof admitAnonymousAudit>[0];
    let own = 0;
    for (let i = 0; i < 10_000; i++) {
      const step = admitAnonymousAudit(tally, at(i / 1000), 2);
      if (step.ownRow) own++;
      tally = step.minute;
    }
    expect(own).toBe(2);
    expect(tally).toEqual({ minute, rows: 2, counted: 9998 });
  });
});

describe('runPrunable', () => {
  const cutoff = new Date('2026-11-06T12:00:00.000Z');
  it.each([
    ['Backup', 'FAILED', '2026-11-01T00:00:00.000Z', true],
    ['Backup', 'SUCCEEDED', '2026-11-01T00:00:00.000Z', false],
    ['Backup', 'FAILED', '2026-11-06T12:00:00.000Z', false],
    ['Backup', 'FAILED', undefined, false],
    ['Backup', 'RUNNING', '2026-11-01T00:00:00.000Z', false],
    ['Restore', 'SUCCEEDED', '2026-11-01T00:00:00.000Z', true],
    ['Restore', 'FAILED', '2026-11-06T11:59:59.999Z', true],
    ['Restore', 'PENDING', undefined, false],
    ['Restore', 'RUNNING', '2026-11-01T00:00:00.000Z', false],
  ] as const)('a %s %s completed at %s may go: %s', (kind, phase, completedAt, expected) => {
    expect(runPrunable(kind, phase, completedAt, cutoff)).toBe(expected);
  });
});
