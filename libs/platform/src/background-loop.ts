/**
 * One async loop that runs in the background until it is stopped: the body checks `running`
 * between rounds and rests with `pause`. start() while it runs does nothing; stop() ends a pause
 * at once, runs `interrupt` (to end a wait the loop is blocked in, e.g. close a subscription)
 * and resolves when the body has returned.
 */
export class BackgroundLoop {
  private active = false;
  private done: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly body: (loop: BackgroundLoop) => Promise<void>,
    private readonly interrupt?: () => Promise<unknown> | void,
  ) {}

  get running(): boolean {
    return this.active;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.done = this.body(this);
  }

  async stop(): Promise<void> {
    this.active = false;
    this.wake();
    await this.interrupt?.();
    await this.done;
  }

  /** Rests up to `ms`, less when woken or stopped meanwhile. */
  pause(ms: number): Promise<void> {
    if (!this.active) return Promise.resolve();
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === end) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.wakeUp = end;
    });
  }

  /** Ends the current pause now (the loop goes round again). */
  wake(): void {
    this.wakeUp?.();
  }
}

/**
 * A loop that runs `work` every `ms` (the first time `ms` after start) until stopped, one round
 * at a time; a round that fails goes to `onError` and the next one runs as usual.
 */
export function periodicLoop(ms: number, work: () => Promise<unknown>, onError: (error: unknown) => void): BackgroundLoop {
  return new BackgroundLoop(async (loop) => {
    for (;;) {
      await loop.pause(ms);
      if (!loop.running) return;
      await work().catch(onError);
    }
  });
}
