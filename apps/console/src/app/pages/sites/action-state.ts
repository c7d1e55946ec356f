import { signal } from '@angular/core';
import { ApiError } from '../../core/api-error';

/**
 * One panel's write in flight: busy while it runs, the API's Status when it refused, and what it
 * answered (e.g. the Command a rollback started, shown live with pl-command-progress).
 */
export class ActionState {
  readonly busy = signal(false);
  readonly error = signal<ApiError | undefined>(undefined);
  /** Which confirmation is open (a destructive action asks for the name first). */
  readonly confirming = signal<string | undefined>(undefined);

  async run<T>(write: () => Promise<T>): Promise<T | undefined> {
    this.busy.set(true);
    this.confirming.set(undefined);
    try {
      const answer = await write();
      this.error.set(undefined);
      return answer;
    } catch (caught) {
      this.error.set(caught instanceof ApiError ? caught : new ApiError(0, 'Unknown', String(caught)));
      return undefined;
    } finally {
      this.busy.set(false);
    }
  }
}
