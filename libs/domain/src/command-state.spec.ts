import { describe, expect, it } from 'vitest';
import { COMMAND_STATES, type CommandState, type CommandStatus } from './command.js';
import { applyCommandEvent, commandEventFromOwner, MAX_COMMAND_LOG_LINES, type AgentCommandEvent } from './command-state.js';

const AT = '2026-12-02T10:00:00.000Z';
const EARLIER = '2026-12-02T09:00:00.000Z';

const status = (state: CommandState, more: Partial<CommandStatus> = {}): CommandStatus => ({ state, log: ['queued'], lastSequence: 5, ...more });

const EVENTS: Record<AgentCommandEvent['type'], AgentCommandEvent> = {
  accepted: { type: 'accepted', sequence: 6 },
  progress: { type: 'progress', sequence: 6, step: 'nginx', percent: 50 },
  log: { type: 'log', sequence: 6, line: 'reloaded' },
  heartbeat: { type: 'heartbeat', sequence: 6 },
  succeeded: { type: 'succeeded', sequence: 6, message: 'done' },
  failed: { type: 'failed', sequence: 6, reason: 'HealthCheckFailed', message: 'GET / answered 500' },
  rejected: { type: 'rejected', sequence: 6, reason: 'StaleFence', message: 'fence 3 < 4' },
};

/** The state each event leads to from a live (not terminal) state; STALLED is only left by a result. */
const AFTER: Record<AgentCommandEvent['type'], (from: CommandState) => CommandState> = {
  accepted: (from) => (from === 'STALLED' ? 'STALLED' : 'RUNNING'),
  progress: (from) => from,
  log: (from) => from,
  heartbeat: (from) => from,
  succeeded: () => 'SUCCEEDED',
  failed: () => 'FAILED',
  rejected: () => 'REJECTED',
};

const TERMINAL: readonly CommandState[] = ['SUCCEEDED', 'FAILED', 'REJECTED'];
const cases = COMMAND_STATES.flatMap((state) => Object.values(EVENTS).map((event) => [state, event.type, event] as const));

describe('applyCommandEvent: every state x event', () => {
  it.each(cases)('%s + %s', (state, type, event) => {
    const before = status(state);
    const after = applyCommandEvent(before, event, AT);
    if (TERMINAL.includes(state)) {
      expect(after).toBe(before); // terminal states are final: not even the sequence moves
      return;
    }
    expect(after.state).toBe(AFTER[type](state));
    expect(after.lastSequence).toBe(6);
    expect(after.lastHeartbeat).toBe(AT);
    expect(after.finishedAt).toBe(['succeeded', 'failed', 'rejected'].includes(type) ? AT : undefined);
  });

  it.each(COMMAND_STATES)('%s + an event of a kind this version does not know: unchanged', (state) => {
    const before = status(state);
    expect(applyCommandEvent(before, undefined, AT)).toBe(before);
  });
});

describe('applyCommandEvent: the fields', () => {
  it.each([
    ['first acceptance stamps startedAt', status('DISPATCHED'), AT],
    ['a repeated acceptance keeps the first', status('RUNNING', { startedAt: EARLIER }), EARLIER],
    ['a stalled command is not started again', status('STALLED'), undefined],
  ])('%s', (_, before, startedAt) => {
    expect(applyCommandEvent(before, EVENTS.accepted, AT).startedAt).toBe(startedAt);
  });

  it.each([
    [5, 6, 6],
    [9, 6, 9], // a late, older event never lowers the sequence
    [6, 6, 6],
  ])('lastSequence %i + event %i -> %i', (held, sequence, expected) => {
    expect(applyCommandEvent(status('RUNNING', { lastSequence: held }), { type: 'heartbeat', sequence }, AT).lastSequence).toBe(expected);
  });

  it.each([
    ['a progress step', EVENTS.progress, 'nginx (50%)'],
    ['a log line', EVENTS.log, 'reloaded'],
    ['control characters removed', { type: 'log', sequence: 6, line: 'a\u0000b\u0007c\u001b[31md\u007f' }, 'abc[31md'],
    ['tab and newline kept', { type: 'log', sequence: 6, line: 'a\tb\nc' }, 'a\tb\nc'],
    ['cut at 4096 characters', { type: 'log', sequence: 6, line: 'x'.repeat(5000) }, 'x'.repeat(4096)],
  ] as const)('log: %s', (_, event, line) => {
    expect(applyCommandEvent(status('RUNNING'), event, AT).log).toEqual(['queued', line]);
  });

  it(`keeps the newest ${MAX_COMMAND_LOG_LINES} log lines`, () => {
    const full = Array.from({ length: MAX_COMMAND_LOG_LINES }, (_, i) => `line ${i}`);
    const log = applyCommandEvent(status('RUNNING', { log: full }), { type: 'log', sequence: 6, line: 'newest' }, AT).log;
    expect(log).toHaveLength(MAX_COMMAND_LOG_LINES);
    expect(log[0]).toBe('line 1');
    expect(log.at(-1)).toBe('newest');
  });

  it.each([
    ['HealthCheckFailed', 'HealthCheckFailed'],
    ['A', 'A'],
    [`A${'b'.repeat(127)}`, `A${'b'.repeat(127)}`],
    [`A${'b'.repeat(128)}`, undefined],
    ['healthCheckFailed', undefined],
    ['Health Check', undefined],
    ['Health-Check', undefined],
    ['', undefined],
  ])('reason %j -> %j', (reason, expected) => {
    for (const type of ['failed', 'rejected'] as const) {
      expect(applyCommandEvent(status('RUNNING'), { type, sequence: 6, reason, message: 'm' }, AT).reason).toBe(expected);
    }
  });

  it.each([
    ['succeeded', { type: 'succeeded', sequence: 6, message: 'y'.repeat(5000) }],
    ['failed', { type: 'failed', sequence: 6, reason: 'Boom', message: 'y'.repeat(5000) }],
    ['rejected', { type: 'rejected', sequence: 6, reason: 'Boom', message: 'y'.repeat(5000) }],
  ] as const)('a %s message is cut at 4096 characters', (_, event) => {
    expect(applyCommandEvent(status('RUNNING'), event, AT).message).toBe('y'.repeat(4096));
  });

  it('leaves the status it was given alone', () => {
    const before = status('RUNNING');
    const copy = structuredClone(before);
    applyCommandEvent(before, EVENTS.failed, AT);
    expect(before).toEqual(copy);
  });
});

describe('commandEventFromOwner', () => {
  it.each([
    ['the command is addressed to the sending node', 'node-a', 'node-a', 'node-a', true],
    ['another node sends about it', 'node-a', 'node-b', 'node-b', false],
    ['another node sends it naming the owner in the event', 'node-a', 'node-b', 'node-a', false],
    ['the owner sends it naming another node in the event', 'node-a', 'node-a', 'node-b', false],
    ['the event names no node', 'node-a', 'node-a', undefined, false],
    ['the command does not exist', undefined, 'node-a', 'node-a', false],
  ] as const)('%s', (_, commandNode, subjectNode, eventNode, owned) => {
    expect(commandEventFromOwner(commandNode, subjectNode, eventNode)).toBe(owned);
  });
});

describe('applyCommandEvent: backups and restores', () => {
  it.each([
    ['step, percent, bytes and files', { step: 'files', percent: 40, bytes: 1024, files: 7 }, { step: 'files', percent: 40, bytes: 1024, files: 7 }],
    ['no counts: step and percent only', { step: 'database', percent: 10, bytes: 0, files: 0 }, { step: 'database', percent: 10 }],
    ['percent clamped to 0..100', { step: 'files', percent: 250 }, { step: 'files', percent: 100 }],
    ['a step that is not a kebab-case word is not kept', { step: 'Files <b>', percent: 5 }, undefined],
  ] as const)('progress: %s', (_, fields, progress) => {
    expect(applyCommandEvent(status('RUNNING'), { type: 'progress', sequence: 6, ...fields }, AT).progress).toEqual(progress);
  });

  const result = {
    snapshots: { database: 'aaaaaaaa', files: 'bbbbbbbb', manifest: 'cccccccc' },
    snapshotTime: '2026-12-02T09:59:00Z',
    bytesAdded: 10,
    bytesTotal: 100,
    files: 3,
    durationSeconds: 1.5,
  };

  it.each([
    ['a well-formed result is kept', result, result],
    ['a malformed one is dropped (the command still succeeds)', { ...result, snapshots: { database: '../x' } }, undefined],
    ['none: none', undefined, undefined],
  ] as const)('result: %s', (_, backup, kept) => {
    const after = applyCommandEvent(status('RUNNING'), { type: 'succeeded', sequence: 6, message: 'stored', backup }, AT);
    expect(after.state).toBe('SUCCEEDED');
    expect(after.backup).toEqual(kept);
  });
});

describe('applyCommandEvent: certificates', () => {
  const issued = { source: 'acme', domains: ['shop.example.test'], issuer: 'CN=Test CA', serialNumber: '0a', fingerprintSha256: 'ab'.repeat(32), notBefore: EARLIER, notAfter: AT, ocspStapling: false };

  it.each([
    ['a well-formed certificate is kept', issued, issued],
    ['a malformed one is not (the success still counts)', { ...issued, fingerprintSha256: 'not hex' }, undefined],
  ] as const)('%s', (_, certificate, kept) => {
    const after = applyCommandEvent(status('RUNNING'), { type: 'succeeded', sequence: 6, message: 'issued', certificate }, AT);
    expect(after.state).toBe('SUCCEEDED');
    expect(after.certificate).toEqual(kept);
  });

  it.each([
    [3600, 3600],
    [0, undefined],
    [40 * 24 * 3600, 30 * 24 * 3600],
    [1.5, undefined],
  ])('retry after %s s is kept as %s', (retryAfterSeconds, kept) => {
    const after = applyCommandEvent(status('RUNNING'), { type: 'failed', sequence: 6, reason: 'AcmeRateLimited', message: 'too many', retryAfterSeconds }, AT);
    expect(after.retryAfterSeconds).toBe(kept);
  });
});
