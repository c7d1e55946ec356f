import { describe, expect, it } from 'vitest';
import { afterStart, describeExit, INITIAL_SUPERVISED_STATE, observeProcess, restartDelay, type RestartPolicy, type SupervisedState } from './supervision.js';

const policy: RestartPolicy = { baseDelayMs: 1000, maxDelayMs: 8000, crashLoopRestarts: 3, stableMs: 10_000 };

describe('restartDelay', () => {
  it.each([
    [0, 0],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 8000],
    [60, 8000],
    [-1, 0],
  ])('restart after a streak of %i waits %i ms', (streak, delay) => {
    expect(restartDelay(streak, policy)).toBe(delay);
  });
});

describe('observeProcess', () => {
  const down = (state: SupervisedState, now: number, exit?: string) => observeProcess(state, { up: false, ...(exit ? { exit } : {}) }, now, policy);
  const up = (state: SupervisedState, now: number) => observeProcess(state, { up: true }, now, policy);

  it.each<[string, SupervisedState, boolean, number, string, number | undefined]>([
    ['first death: start at once', INITIAL_SUPERVISED_STATE, false, 100, 'start', undefined],
    ['second death in a row: wait 1 s', { ...INITIAL_SUPERVISED_STATE, streak: 1, restarts: 1 }, false, 100, 'wait', 1100],
    ['fourth in a row: wait 4 s', { ...INITIAL_SUPERVISED_STATE, streak: 3, restarts: 3, crashLooping: true }, false, 100, 'wait', 4100],
    ['seen down before: the wait counts from then', { ...INITIAL_SUPERVISED_STATE, streak: 2, restarts: 2, downSince: 0 }, false, 2000, 'start', undefined],
    ['seen down before, not long enough', { ...INITIAL_SUPERVISED_STATE, streak: 2, restarts: 2, downSince: 0 }, false, 1999, 'wait', 2000],
    ['up: nothing to do', INITIAL_SUPERVISED_STATE, true, 100, 'none', undefined],
    ['up while in a loop: nothing to do', { ...INITIAL_SUPERVISED_STATE, streak: 3, crashLooping: true, upSince: 50 }, true, 100, 'none', undefined],
  ])('%s', (_, state, isUp, now, action, until) => {
    const { decision } = isUp ? up(state, now) : down(state, now);
    expect(decision.action).toBe(action);
    if (until !== undefined) expect(decision).toEqual({ action: 'wait', until });
  });

  it('keeps the exit of the death it first saw, not a later guess', () => {
    const first = down(INITIAL_SUPERVISED_STATE, 0, 'killed by SIGKILL').state;
    expect(first.lastExit).toBe('killed by SIGKILL');
    expect(down(first, 10, 'exited (seen gone)').state.lastExit).toBe('killed by SIGKILL');
    expect(down(INITIAL_SUPERVISED_STATE, 0).state.lastExit).toBe('exited (seen gone)');
  });

  it('returns the same state object when nothing changed (no churn for callers that compare)', () => {
    const state = up(INITIAL_SUPERVISED_STATE, 5).state;
    expect(up(state, 6).state).toBe(state);
    const gone = down(state, 7).state;
    expect(down(gone, 8).state).toBe(gone);
  });

  it('a death after a stable run nobody looked at in between starts a new streak: restarted at once', () => {
    const state: SupervisedState = { ...INITIAL_SUPERVISED_STATE, restarts: 2, streak: 2, crashLooping: false, upSince: 0 };
    expect(down(state, 9_999).decision).toEqual({ action: 'wait', until: 9_999 + 2000 });
    const after = down(state, 10_000);
    expect(after.decision).toEqual({ action: 'start' });
    expect(after.state).toMatchObject({ streak: 0, restarts: 2, downSince: 10_000 });
  });

  it('a stable run ends the loop and the backoff starts again', () => {
    let state: SupervisedState = { ...INITIAL_SUPERVISED_STATE, restarts: 4, streak: 4, crashLooping: true, upSince: 1000 };
    state = up(state, 10_999).state;
    expect(state).toMatchObject({ crashLooping: true, streak: 4 });
    state = up(state, 11_000).state;
    expect(state).toMatchObject({ crashLooping: false, streak: 0, restarts: 4 });
    expect(down(state, 12_000).decision).toEqual({ action: 'start' });
  });
});

describe('afterStart', () => {
  it('counts restarts and calls the third in a row a crash loop', () => {
    let state = INITIAL_SUPERVISED_STATE;
    const verdicts: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      state = afterStart(observeProcess(state, { up: false }, i * 100, policy).state, { ok: true }, i * 100 + 1, policy);
      verdicts.push(state.crashLooping);
    }
    expect(verdicts).toEqual([false, false, true, true]);
    expect(state).toMatchObject({ restarts: 4, streak: 4, upSince: 301, downSince: undefined });
  });

  it('a failed start leaves the process down with the failure as its last exit, and backs off', () => {
    const state = afterStart(observeProcess(INITIAL_SUPERVISED_STATE, { up: false }, 0, policy).state, { ok: false, error: 'php-fpm exited before its socket appeared' }, 50, policy);
    expect(state).toMatchObject({ restarts: 1, streak: 1, downSince: 50, upSince: undefined, lastExit: 'php-fpm exited before its socket appeared' });
    expect(observeProcess(state, { up: false }, 60, policy).decision).toEqual({ action: 'wait', until: 1050 });
  });
});

describe('describeExit', () => {
  it.each([
    [null, 'SIGKILL', 'killed by SIGKILL'],
    [78, null, 'exited with code 78'],
    [0, null, 'exited with code 0'],
    [null, null, 'exited'],
  ])('code %s signal %s', (code, signal, text) => {
    expect(describeExit(code, signal)).toBe(text);
  });
});
