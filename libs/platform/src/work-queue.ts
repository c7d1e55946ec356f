/**
 * A keyed, rate-limited work queue for level-triggered reconcilers, after client-go's
 * workqueue (and pepr's per-key queue): it holds only keys, never events or objects, because
 * every reconcile re-reads the world.
 *
 * - Duplicates merge: a key is queued at most once, keeping its original position (FIFO).
 * - One reconcile per key at a time: a key added while it is being reconciled is marked and
 *   queued once more when that run finishes (the run may have read the world before the change).
 * - `concurrency` reconciles overall.
 * - A failed reconcile is retried after base * 2^(failures-1) ms, capped at maxDelayMs; the
 *   per-key failure count resets on success. A TerminalError is not retried (a later add() still
 *   runs the key: a new event may have fixed the cause).
 * - An add() during a backoff runs the key right away (the world changed, so the retry may now
 *   succeed); the pending retry still fires later and merges or runs once more. That is
 *   client-go's behaviour: events are rate-limited at their source, not here.
 * - resyncEvery() re-adds every key periodically, once right at start() so a freshly elected
 *   leader sees everything, then `ms` after each listing finished (listings never overlap).
 * - stop() stops taking keys, drops queued keys, pending retries and resyncs, and resolves once
 *   the running reconciles have finished. Dropping is safe because reconciles are level-triggered
 *   and the next start() resyncs; a queue can be started again after stop() resolved.
 *
 * Time comes from an injectable clock so tests need no real waits. No jitter on retries: the
 * keys of one controller fail for different reasons at different times, and determinism keeps
 * the tests and the on-call reading simple.
 */

export type Reconcile = (key: string) => Promise<void>;

/** Time and timers; the default uses Date.now and (unref'd) setTimeout. */
export interface WorkQueueClock {
  now(): number;
  /** Runs `callback` after `ms`; returns a function that cancels it. */
  schedule(callback: () => void, ms: number): () => void;
}

export interface WorkQueueOptions {
  concurrency: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** After a failed reconcile: `attempt` counts consecutive failures (1 = first); `retryInMs` undefined = not retried (terminal). */
  onError?: (key: string, error: unknown, attempt: number, retryInMs: number | undefined) => void;
  onDone?: (key: string, durationMs: number, outcome: 'ok' | 'error' | 'terminal') => void;
  /** A resync listing failed; the next one is tried after the period as usual. */
  onResyncError?: (error: unknown) => void;
  clock?: WorkQueueClock;
}

/** Thrown by a reconcile that retrying cannot fix (invalid spec, a refused destructive retry...). */
export class TerminalError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export const systemClock: WorkQueueClock = {
  now: () => Date.now(),
  schedule(callback, ms) {
    const timer = setTimeout(callback, ms);
    // A pending retry or resync alone must not keep the process alive.
    timer.unref();
    return () => clearTimeout(timer);
  },
};

interface Resync {
  readonly ms: number;
  readonly listKeys: () => Promise<string[]>;
  cancel: (() => void) | undefined;
}

type State = 'idle' | 'running' | 'stopping';

export class WorkQueue {
  /** Waiting to run, in order; a Set merges duplicates and keeps the first position. */
  private readonly queue = new Set<string>();
  private readonly processing = new Set<string>();
  /** Added while being processed: queued again once the running reconcile finishes. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; cancel: () => void }>();
  private readonly resyncs: Resync[] = [];
  private readonly drained: (() => void)[] = [];
  private readonly clock: WorkQueueClock;
  private state: State = 'idle';
  /** Bumped by every start() and stop(), so callbacks of an earlier run cannot act on a later one. */
  private epoch = 0;

  constructor(
    private readonly reconcile: Reconcile,
    private readonly options: WorkQueueOptions,
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`WorkQueue: concurrency must be a positive integer, got ${options.concurrency}`);
    }
    if (!(options.baseDelayMs > 0) || !(options.maxDelayMs >= options.baseDelayMs)) {
      throw new RangeError(
        `WorkQueue: need 0 < baseDelayMs <= maxDelayMs, got ${options.baseDelayMs} and ${options.maxDelayMs}`,
      );
    }
    this.clock = options.clock ?? systemClock;
  }

  /** Queues a key now (merged if already queued). Keys added before start() run once started; while stopping they are dropped. */
  add(key: string): void {
    if (this.state === 'stopping') return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queue.add(key);
    this.pump();
  }

  /** Queues a key after `delayMs`. Of several pending delays for one key, the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.state === 'stopping') return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    const cancel = this.clock.schedule(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, cancel });
  }

  start(): void {
    if (this.state === 'running') return;
    if (this.state === 'stopping') throw new Error('WorkQueue: start() while stopping; await stop() first');
    this.state = 'running';
    this.epoch++;
    for (const resync of this.resyncs) void this.runResync(resync, this.epoch);
    this.pump();
  }

  async stop(): Promise<void> {
    if (this.state === 'idle') return;
    if (this.state === 'running') {
      this.state = 'stopping';
      this.epoch++;
      for (const { cancel } of this.delayed.values()) cancel();
      this.delayed.clear();
      for (const resync of this.resyncs) {
        resync.cancel?.();
        resync.cancel = undefined;
      }
      this.queue.clear();
      this.dirty.clear();
      this.failures.clear();
    }
    if (this.processing.size > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    this.state = 'idle';
  }

  /** Keys waiting to run: queued ones plus those that will run again after their current reconcile. */
  depth(): number {
    return this.queue.size + this.dirty.size;
  }

  inFlight(): number {
    return this.processing.size;
  }

  /** Adds every key `listKeys` returns: at start() (or now, if running), then every `ms`. */
  resyncEvery(ms: number, listKeys: () => Promise<string[]>): void {
    if (!(ms > 0)) throw new RangeError(`WorkQueue: resync period must be positive, got ${ms}`);
    const resync: Resync = { ms, listKeys, cancel: undefined };
    this.resyncs.push(resync);
    if (this.state === 'running') void this.runResync(resync, this.epoch);
  }

  private pump(): void {
    if (this.state !== 'running') return;
    while (this.processing.size < this.options.concurrency) {
      const next = this.queue.values().next();
      if (next.done) return;
      const key = next.value;
      this.queue.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
  }

  /** Never rejects. */
  private async run(key: string): Promise<void> {
    const started = this.clock.now();
    let outcome: 'ok' | 'error' | 'terminal';
    try {
      // Never call user code from inside add()/start(): callers may hold state they are updating.
      await Promise.resolve();
      await this.reconcile(key);
      outcome = 'ok';
      this.failures.delete(key);
    } catch (error) {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      if (error instanceof TerminalError) {
        outcome = 'terminal';
        this.failures.delete(key);
        this.notify(() => this.options.onError?.(key, error, attempt, undefined));
      } else {
        outcome = 'error';
        this.failures.set(key, attempt);
        // While stopping nothing is retried, and the callback says so.
        const retryInMs = this.state === 'running' ? this.backoff(attempt) : undefined;
        this.notify(() => this.options.onError?.(key, error, attempt, retryInMs));
        if (retryInMs !== undefined) this.addAfter(key, retryInMs);
      }
    }
    this.processing.delete(key);
    this.notify(() => this.options.onDone?.(key, this.clock.now() - started, outcome));
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
    if (this.processing.size === 0) for (const resolve of this.drained.splice(0)) resolve();
  }

  private backoff(attempt: number): number {
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
  }

  private async runResync(resync: Resync, epoch: number): Promise<void> {
    try {
      const keys = await resync.listKeys();
      if (epoch === this.epoch) for (const key of keys) this.add(key);
    } catch (error) {
      if (epoch === this.epoch) this.notify(() => this.options.onResyncError?.(error));
    }
    if (epoch !== this.epoch) return;
    resync.cancel = this.clock.schedule(() => {
      resync.cancel = undefined;
      void this.runResync(resync, epoch);
    }, resync.ms);
  }

  /** Observers must not break the queue: a throwing callback is ignored. */
  private notify(callback: () => void): void {
    try {
      callback();
    } catch {
      // deliberately ignored
    }
  }
}
