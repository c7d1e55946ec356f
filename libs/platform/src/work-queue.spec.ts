import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TerminalError, WorkQueue, type WorkQueueClock, type WorkQueueOptions } from './work-queue.js';

/** Lets queued microtasks and due timers run (fake time; no real waiting). */
const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

/**
 * A reconcile whose runs the test finishes by hand, recording what ran and how many runs of
 * one key overlapped.
 */
class Reconciler {
  readonly calls: string[] = [];
  readonly maxConcurrentPerKey = new Map<string, number>();
  maxConcurrent = 0;
  private readonly running = new Map<string, { resolve: () => void; reject: (error: unknown) => void }[]>();
  private active = 0;

  readonly reconcile = (key: string): Promise<void> => {
    this.calls.push(key);
    const list = this.running.get(key) ?? [];
    this.running.set(key, list);
    this.active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    this.maxConcurrentPerKey.set(key, Math.max(this.maxConcurrentPerKey.get(key) ?? 0, list.length + 1));
    return new Promise<void>((resolve, reject) => list.push({ resolve, reject })).finally(() => this.active--);
  };

  async finish(key: string, error?: unknown): Promise<void> {
    const run = this.running.get(key)?.shift();
    if (!run) throw new Error(`${key} is not running`);
    if (error === undefined) run.resolve();
    else run.reject(error);
    await tick();
  }

  count(key: string): number {
    return this.calls.filter((k) => k === key).length;
  }
}

function setup(options: Partial<WorkQueueOptions> = {}) {
  const r = new Reconciler();
  const errors: [string, number, number | undefined][] = [];
  const done: [string, number, string][] = [];
  const queue = new WorkQueue(r.reconcile, {
    concurrency: 4,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    onError: (key, _error, attempt, retryInMs) => errors.push([key, attempt, retryInMs]),
    onDone: (key, durationMs, outcome) => done.push([key, durationMs, outcome]),
    ...options,
  });
  return { r, queue, errors, done };
}

/** A reconcile that fails the given number of times (per key, in order) and then succeeds. */
function scripted(outcomes: (Error | undefined)[]) {
  const calls: string[] = [];
  let i = 0;
  const reconcile = (key: string) => {
    calls.push(key);
    const outcome = outcomes[i++];
    return outcome ? Promise.reject(outcome) : Promise.resolve();
  };
  return { calls, reconcile };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('WorkQueue: keys and workers', () => {
  it('merges duplicate keys into one entry', async () => {
    const { r, queue } = setup();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.depth()).toBe(2);
    queue.start();
    await tick();
    expect(r.calls).toEqual(['a', 'b']);
    expect(queue.depth()).toBe(0);
    expect(queue.inFlight()).toBe(2);
  });

  it('does not run anything before start()', async () => {
    const { r, queue } = setup();
    queue.add('a');
    await tick(10_000);
    expect(r.calls).toEqual([]);
    expect(queue.depth()).toBe(1);
  });

  it('never calls reconcile from inside add()', () => {
    const { r, queue } = setup();
    queue.start();
    queue.add('a');
    expect(r.calls).toEqual([]);
    expect(queue.inFlight()).toBe(1);
  });

  it('runs keys in the order they were first added', async () => {
    const { r, queue } = setup({ concurrency: 1 });
    for (const key of ['c', 'a', 'b', 'c']) queue.add(key);
    queue.start();
    await tick();
    await r.finish('c');
    await r.finish('a');
    await r.finish('b');
    expect(r.calls).toEqual(['c', 'a', 'b']);
  });

  it('runs at most `concurrency` reconciles at once', async () => {
    const { r, queue } = setup({ concurrency: 2 });
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    queue.start();
    await tick();
    expect(queue.inFlight()).toBe(2);
    expect(queue.depth()).toBe(2);
    await r.finish('a');
    expect(r.calls).toEqual(['a', 'b', 'c']);
    await r.finish('b');
    await r.finish('c');
    await r.finish('d');
    expect(r.maxConcurrent).toBe(2);
    expect(queue.inFlight()).toBe(0);
  });

  it('never runs one key twice at the same time, whatever the concurrency', async () => {
    const { r, queue } = setup({ concurrency: 8 });
    queue.start();
    queue.add('a');
    await tick();
    queue.add('a');
    queue.add('a');
    await tick();
    expect(queue.inFlight()).toBe(1);
    expect(r.count('a')).toBe(1);
    expect(r.maxConcurrentPerKey.get('a')).toBe(1);
  });

  it('re-queues a key added while it runs exactly once, after the run', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.add('a');
    await tick();
    queue.add('a');
    queue.add('a');
    expect(queue.depth()).toBe(1);
    await r.finish('a');
    expect(r.count('a')).toBe(2);
    expect(queue.inFlight()).toBe(1);
    await r.finish('a');
    expect(r.count('a')).toBe(2);
    expect(queue.depth()).toBe(0);
    expect(r.maxConcurrentPerKey.get('a')).toBe(1);
  });

  it('keeps other keys moving while one key is busy', async () => {
    const { r, queue } = setup({ concurrency: 2 });
    queue.start();
    queue.add('slow');
    await tick();
    for (const key of ['x', 'y', 'z']) {
      queue.add(key);
      await tick();
      await r.finish(key);
    }
    expect(r.calls).toEqual(['slow', 'x', 'y', 'z']);
  });

  it('reports the duration and outcome of each run', async () => {
    const { r, queue, done } = setup();
    queue.start();
    queue.add('a');
    await tick(250);
    await r.finish('a');
    expect(done).toEqual([['a', 250, 'ok']]);
  });

  it.each([
    ['concurrency 0', { concurrency: 0 }],
    ['fractional concurrency', { concurrency: 1.5 }],
    ['base delay 0 (would hot-loop)', { baseDelayMs: 0 }],
    ['max delay below base', { baseDelayMs: 100, maxDelayMs: 50 }],
  ])('refuses %s', (_name, options) => {
    expect(() => new WorkQueue(() => Promise.resolve(), { concurrency: 1, baseDelayMs: 10, maxDelayMs: 100, ...options })).toThrow(RangeError);
  });
});

describe('WorkQueue: errors and backoff', () => {
  it('retries a failing key with exponential backoff, capped', async () => {
    const { r, queue, errors } = setup({ baseDelayMs: 100, maxDelayMs: 1_000 });
    queue.start();
    queue.add('a');
    await tick();
    const delays: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      await r.finish('a', new Error('node unreachable'));
      const delay = errors.at(-1)![2]!;
      delays.push(delay);
      await tick(delay - 1);
      expect(r.count('a'), `attempt ${attempt} waits the full ${delay} ms`).toBe(attempt);
      await tick(1);
      expect(r.count('a')).toBe(attempt + 1);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    expect(errors.map(([, attempt]) => attempt)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('does not overflow after many failures', async () => {
    const failing = scripted(Array.from({ length: 1_200 }, () => new Error('boom')));
    const retries: (number | undefined)[] = [];
    const queue = new WorkQueue(failing.reconcile, {
      concurrency: 1,
      baseDelayMs: 1,
      maxDelayMs: 5,
      onError: (_k, _e, _a, retryInMs) => retries.push(retryInMs),
    });
    queue.start();
    queue.add('a');
    await tick(6_000);
    expect(retries.length).toBeGreaterThan(1_100);
    expect(retries.every((ms) => ms !== undefined && ms >= 1 && ms <= 5)).toBe(true);
  });

  it('resets the failure count on success', async () => {
    const { r, queue, errors } = setup();
    queue.start();
    queue.add('a');
    await tick();
    await r.finish('a', new Error('1'));
    await tick(100);
    await r.finish('a', new Error('2'));
    await tick(200);
    await r.finish('a');
    queue.add('a');
    await tick();
    await r.finish('a', new Error('3'));
    expect(errors).toEqual([
      ['a', 1, 100],
      ['a', 2, 200],
      ['a', 1, 100],
    ]);
  });

  it('counts failures per key', async () => {
    const { r, queue, errors } = setup();
    queue.start();
    queue.add('a');
    queue.add('b');
    await tick();
    await r.finish('a', new Error('a1'));
    await tick(100);
    await r.finish('a', new Error('a2'));
    await r.finish('b', new Error('b1'));
    expect(errors).toEqual([
      ['a', 1, 100],
      ['a', 2, 200],
      ['b', 1, 100],
    ]);
  });

  it('does not retry a TerminalError', async () => {
    const { r, queue, errors, done } = setup();
    queue.start();
    queue.add('a');
    await tick();
    await r.finish('a', new TerminalError('spec names a node that will never exist'));
    await tick(60_000);
    expect(r.count('a')).toBe(1);
    expect(errors).toEqual([['a', 1, undefined]]);
    expect(done.map(([, , outcome]) => outcome)).toEqual(['terminal']);
  });

  it('runs a key again on a new add() after a TerminalError, with a fresh failure count', async () => {
    const { r, queue, errors } = setup();
    queue.start();
    queue.add('a');
    await tick();
    await r.finish('a', new Error('transient'));
    await tick(100);
    await r.finish('a', new TerminalError('bad spec'));
    queue.add('a');
    await tick();
    await r.finish('a', new Error('transient again'));
    expect(errors).toEqual([
      ['a', 1, 100],
      ['a', 2, undefined],
      ['a', 1, 100],
    ]);
  });

  it('treats a reconcile that throws synchronously as a failed run', async () => {
    const errors: unknown[] = [];
    const queue = new WorkQueue(
      () => {
        throw new Error('sync');
      },
      { concurrency: 1, baseDelayMs: 100, maxDelayMs: 100, onError: (_k, error) => errors.push(error) },
    );
    queue.start();
    queue.add('a');
    await tick();
    expect(errors).toEqual([new Error('sync')]);
    expect(queue.inFlight()).toBe(0);
  });

  it('runs a key added during its backoff right away, and the retry later still merges in', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.add('a');
    await tick();
    await r.finish('a', new Error('down'));
    queue.add('a'); // a new event: the world changed
    await tick();
    expect(r.count('a')).toBe(2);
    await tick(100); // the retry fires while the key runs: marked, not run concurrently
    expect(r.maxConcurrentPerKey.get('a')).toBe(1);
    await r.finish('a');
    expect(r.count('a')).toBe(3);
  });

  it('runs a failed key that was added during the run again right away (and still backs off)', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.add('a');
    await tick();
    queue.add('a');
    await r.finish('a', new Error('down'));
    expect(r.count('a')).toBe(2);
  });

  it('keeps working when an observer callback throws', async () => {
    const failing = scripted([new Error('x')]);
    const queue = new WorkQueue(failing.reconcile, {
      concurrency: 1,
      baseDelayMs: 10,
      maxDelayMs: 10,
      onError: () => {
        throw new Error('observer broke');
      },
      onDone: () => {
        throw new Error('observer broke');
      },
    });
    queue.start();
    queue.add('a');
    queue.add('b');
    await tick(10);
    expect(failing.calls).toEqual(['a', 'b', 'a']);
  });
});

describe('WorkQueue: addAfter', () => {
  it('adds a key after the delay', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.addAfter('a', 500);
    await tick(499);
    expect(r.calls).toEqual([]);
    await tick(1);
    expect(r.calls).toEqual(['a']);
  });

  it('keeps the earliest of several delays for one key', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.addAfter('a', 500);
    queue.addAfter('a', 200);
    queue.addAfter('a', 900);
    await tick(200);
    expect(r.count('a')).toBe(1);
    await r.finish('a');
    await tick(1_000);
    expect(r.count('a')).toBe(1);
  });

  it('adds right away for a zero or negative delay', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    await tick();
    expect(r.calls).toEqual(['a', 'b']);
  });
});

describe('WorkQueue: resync', () => {
  it('adds every key at start and then every period', async () => {
    const { r, queue } = setup();
    const listKeys = vi.fn(() => Promise.resolve(['a', 'b']));
    queue.resyncEvery(1_000, listKeys);
    queue.start();
    await tick();
    expect(r.calls).toEqual(['a', 'b']);
    await r.finish('a');
    await r.finish('b');
    await tick(999);
    expect(r.calls).toHaveLength(2);
    await tick(1);
    expect(r.calls).toEqual(['a', 'b', 'a', 'b']);
    expect(listKeys).toHaveBeenCalledTimes(2);
  });

  it('starts resyncing right away when registered on a running queue', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.resyncEvery(1_000, () => Promise.resolve(['a']));
    await tick();
    expect(r.calls).toEqual(['a']);
  });

  it('merges resynced keys with keys already queued or running', async () => {
    const { r, queue } = setup({ concurrency: 1 });
    queue.add('a');
    queue.add('b');
    queue.resyncEvery(1_000, () => Promise.resolve(['a', 'b', 'c']));
    queue.start();
    await tick();
    expect(queue.inFlight()).toBe(1);
    // 'a' runs and is marked for one more pass; 'b' was queued already; 'c' is new.
    expect(queue.depth()).toBe(3);
    await r.finish('a');
    await r.finish('b');
    await r.finish('c');
    await r.finish('a');
    expect(r.calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('never overlaps listings and keeps going after a failed one', async () => {
    const resyncErrors: unknown[] = [];
    const { r, queue } = setup({ onResyncError: (error) => resyncErrors.push(error) });
    let listing = 0;
    let maxListing = 0;
    let calls = 0;
    queue.resyncEvery(100, async () => {
      listing++;
      maxListing = Math.max(maxListing, listing);
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 250)); // slower than the period
      listing--;
      if (calls === 2) throw new Error('database down');
      return [`k${calls}`];
    });
    queue.start();
    // Listings at 0-250, 350-600 (fails), 700-950, 1050-1300: each starts a period after the last ended.
    await tick(1_300);
    expect(maxListing).toBe(1);
    expect(resyncErrors).toEqual([new Error('database down')]);
    expect(r.calls).toEqual(['k1', 'k3', 'k4']);
  });

  it('stops resyncing on stop()', async () => {
    const { queue } = setup();
    const listKeys = vi.fn(() => Promise.resolve<string[]>([]));
    queue.resyncEvery(100, listKeys);
    queue.start();
    await tick(250);
    expect(listKeys).toHaveBeenCalledTimes(3);
    await queue.stop();
    await tick(1_000);
    expect(listKeys).toHaveBeenCalledTimes(3);
  });

  it('drops keys from a listing that finishes after stop()', async () => {
    const { r, queue } = setup();
    let release: (keys: string[]) => void = () => undefined;
    queue.resyncEvery(100, () => new Promise<string[]>((resolve) => (release = resolve)));
    queue.start();
    await queue.stop();
    release(['a']);
    await tick(1_000);
    expect(r.calls).toEqual([]);
    expect(queue.depth()).toBe(0);
  });

  it('refuses a non-positive period', () => {
    const { queue } = setup();
    expect(() => queue.resyncEvery(0, () => Promise.resolve([]))).toThrow(RangeError);
  });
});

describe('WorkQueue: stop', () => {
  it('waits for running reconciles', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.add('a');
    queue.add('b');
    await tick();
    let stopped = false;
    const stopping = queue.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);
    await r.finish('a');
    expect(stopped).toBe(false);
    await r.finish('b');
    await stopping;
    expect(stopped).toBe(true);
    expect(queue.inFlight()).toBe(0);
  });

  it('resolves at once when nothing runs', async () => {
    const { queue } = setup();
    await queue.stop();
    queue.start();
    await queue.stop();
    expect(queue.inFlight()).toBe(0);
  });

  it('drops queued keys and starts nothing new while stopping', async () => {
    const { r, queue } = setup({ concurrency: 1 });
    queue.start();
    queue.add('a');
    queue.add('b');
    await tick();
    const stopping = queue.stop();
    queue.add('c');
    queue.add('a'); // would re-queue the running key
    expect(queue.depth()).toBe(0);
    await r.finish('a');
    await stopping;
    await tick(10_000);
    expect(r.calls).toEqual(['a']);
  });

  it('cancels pending retries and does not retry a run that fails while stopping', async () => {
    const { r, queue, errors } = setup();
    queue.start();
    queue.add('a');
    queue.add('b');
    await tick();
    await r.finish('a', new Error('down'));
    const stopping = queue.stop();
    await r.finish('b', new Error('down'));
    await stopping;
    await tick(10_000);
    expect(r.calls).toEqual(['a', 'b']);
    expect(errors).toEqual([
      ['a', 1, 100],
      ['b', 1, undefined],
    ]);
  });

  it('lets all concurrent stop() calls wait for the same drain', async () => {
    const { r, queue } = setup();
    queue.start();
    queue.add('a');
    await tick();
    const first = queue.stop();
    const second = queue.stop();
    expect(() => queue.start()).toThrow(/while stopping/);
    await r.finish('a');
    await Promise.all([first, second]);
  });

  it('can be started again after stop, with fresh failure counts', async () => {
    const { r, queue, errors } = setup();
    queue.start();
    queue.add('a');
    await tick();
    await r.finish('a', new Error('down'));
    await queue.stop();
    queue.start();
    queue.add('a');
    await tick();
    await r.finish('a', new Error('down'));
    expect(errors).toEqual([
      ['a', 1, 100],
      ['a', 1, 100],
    ]);
  });
});

describe('WorkQueue: injected clock', () => {
  it('takes time and timers from the clock it is given', async () => {
    vi.useRealTimers();
    let now = 1_000;
    const timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
    const clock: WorkQueueClock = {
      now: () => now,
      schedule(callback, ms) {
        const timer = { at: now + ms, callback, cancelled: false };
        timers.push(timer);
        return () => (timer.cancelled = true);
      },
    };
    const advance = async (ms: number) => {
      now += ms;
      for (const timer of timers.splice(0)) {
        if (timer.cancelled) continue;
        if (timer.at <= now) timer.callback();
        else timers.push(timer);
      }
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    const failing = scripted([new Error('once')]);
    const done: [string, number, string][] = [];
    const queue = new WorkQueue(failing.reconcile, {
      concurrency: 1,
      baseDelayMs: 30_000,
      maxDelayMs: 60_000,
      clock,
      onDone: (key, ms, outcome) => done.push([key, ms, outcome]),
    });
    queue.start();
    queue.add('a');
    await advance(0);
    expect(timers).toHaveLength(1);
    expect(timers[0]!.at).toBe(31_000);
    await advance(30_000);
    expect(failing.calls).toEqual(['a', 'a']);
    expect(done.map(([, , outcome]) => outcome)).toEqual(['error', 'ok']);
    await queue.stop();
  });
});
