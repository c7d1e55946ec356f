import { describe, expect, it } from 'vitest';
import { commandDisposition, compareFence, MAX_COMMAND_RUNS, resumeStep, siteFenceVerdict } from './fencing.js';

describe('compareFence', () => {
  it.each([
    [1, undefined, 'apply'],
    [5, 4, 'apply'],
    [4, 4, 'duplicate'],
    [3, 4, 'stale'],
    [0, undefined, 'stale'],
    [-1, undefined, 'stale'],
    [1.5, undefined, 'stale'],
    [Number.NaN, 1, 'stale'],
  ] as const)('fence %d against highest %s -> %s', (fence, highest, verdict) => {
    expect(compareFence(fence, highest)).toBe(verdict);
  });
});

describe('siteFenceVerdict', () => {
  const held = (fence: number, siteId = 'abc12345', deleted = false) => ({ fence, siteId, deleted });
  it.each([
    ['nothing held', undefined, 'abc12345', 1, 'apply'],
    ['a newer fence of the same incarnation', held(3), 'abc12345', 4, 'apply'],
    ['the same fence (redelivery)', held(3), 'abc12345', 3, 'duplicate'],
    ['an older fence', held(3), 'abc12345', 2, 'stale'],
    ['another incarnation while the site lives', held(3), 'zz999999', 9, 'stale'],
    ['a new incarnation after a delete starts over', held(3, 'abc12345', true), 'zz999999', 1, 'apply'],
    ['the deleted incarnation stays stale', held(3, 'abc12345', true), 'abc12345', 2, 'stale'],
    ['the deleting command redelivered', held(3, 'abc12345', true), 'abc12345', 3, 'duplicate'],
    ['an invalid fence', undefined, 'abc12345', 0, 'stale'],
  ] as const)('%s -> %s', (_name, record, siteId, fence, verdict) => {
    expect(siteFenceVerdict(record, siteId, fence)).toBe(verdict);
  });
});

describe('commandDisposition', () => {
  const held = (command: string, attempt: number, done: boolean) => ({ command, attempt, done });
  it.each([
    ['stale', 'stale', held('c-1', 1, true), 'c-0', { action: 'reject' }],
    ['a new command', 'apply', undefined, 'c-1', { action: 'run', attempt: 1 }],
    ['a new command over a finished one', 'apply', held('c-1', 2, true), 'c-2', { action: 'run', attempt: 1 }],
    ['a redelivery whose result is published', 'duplicate', held('c-1', 1, true), 'c-1', { action: 'acknowledge' }],
    ['a redelivery of an interrupted run', 'duplicate', held('c-1', 1, false), 'c-1', { action: 'run', attempt: 2 }],
    ['the same fence under another command id', 'duplicate', held('c-1', 2, true), 'c-x', { action: 'run', attempt: 3 }],
  ] as const)('%s -> %j', (_name, verdict, record, command, disposition) => {
    expect(commandDisposition(verdict, record, command)).toEqual(disposition);
  });

  // A command that kills the agent: every delivery starts a run that never records its end.
  const poison = (deliveries: number, runs: number) => ({
    action: 'fail',
    attempt: runs + 1,
    reason: 'PoisonCommand',
    message: `delivered ${deliveries} times and started ${runs} times on this node without completing (the agent stopped or was restarted during every run); not run again`,
  });
  it.each([
    ['the last run allowed', 'duplicate', held('c-1', 4, false), 5, { action: 'run', attempt: 5 }],
    ['started 5 times without a result', 'duplicate', held('c-1', 5, false), 6, poison(6, 5)],
    ['the last delivery allowed', 'apply', undefined, 10, { action: 'run', attempt: 1 }],
    ['delivered 11 times, never recorded as started', 'apply', undefined, 11, poison(11, 0)],
    ['a finished command is acknowledged however often it comes', 'duplicate', held('c-1', 9, true), 50, { action: 'acknowledge' }],
    ['a stale one is rejected however often it comes', 'stale', held('c-2', 1, false), 50, { action: 'reject' }],
  ] as const)('poison: %s -> %j', (_name, verdict, record, deliveries, disposition) => {
    expect(commandDisposition(verdict, record, 'c-1', deliveries)).toEqual(disposition);
  });
});

describe('resumeStep', () => {
  const held = (deleting: boolean, deleted = false, attempt = 1) => ({ attempt, deleted, deleting });
  it.each([
    ['a converged site', held(false), true, 'converge'],
    ['a site never converged (its first provision failed)', held(false), false, 'none'],
    ['a DeleteSite that failed halfway, configuration still on disk', held(true), true, 'remove'],
    ['a DeleteSite the restart interrupted, configuration already dropped', held(true), false, 'remove'],
    ['a removal resumed MAX_COMMAND_RUNS - 1 times before', held(true, false, MAX_COMMAND_RUNS - 1), true, 'remove'],
    ['a removal started MAX_COMMAND_RUNS times (it kills the agent)', held(true, false, MAX_COMMAND_RUNS), true, 'none'],
    ['a DeleteSite given up as poison', held(true, false, MAX_COMMAND_RUNS + 1), false, 'none'],
    ['a deleted site (tombstone)', held(true, true), false, 'none'],
    ['a deleted site whose configuration was left behind', held(true, true), true, 'none'],
  ] as const)('%s -> %s', (_name, record, hasAppliedConfig, step) => {
    expect(resumeStep(record, hasAppliedConfig)).toBe(step);
  });
});
