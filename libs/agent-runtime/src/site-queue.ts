/**
 * Work per key (a site name) runs one task at a time, in the order it was queued; other keys
 * are independent. A failed task does not stop the ones after it.
 */
export class SerialQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const next = before.then(task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Something is queued or running for the key. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Waits for everything queued so far. */
  async settled(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
