/** Tasks started early and awaited later; `settled` waits for all, so nothing outlives a failed provision. */
export class TaskGroup {
  private readonly all: Promise<unknown>[] = [];

  start<T>(fn: () => Promise<T>): Promise<T> {
    const task = fn();
    // Handled here so a task nobody awaits (an earlier step failed) is no unhandled rejection.
    this.all.push(task.catch(() => undefined));
    return task;
  }

  async settled(): Promise<void> {
    await Promise.all(this.all);
  }
}
