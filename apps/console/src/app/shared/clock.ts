import { DestroyRef, inject, Injectable, signal } from '@angular/core';
// The API's own age format (kubectl's AGE), so the console and `kubectl get` read the same.
import { humanAge } from '../../../../../libs/domain/src/human-age';

/**
 * The time now, ticking once a second while a page shows ages (a local timer: nothing is asked
 * of the API), and kubectl's AGE of a timestamp against it.
 */
@Injectable({ providedIn: 'root' })
export class Clock {
  readonly now = signal(new Date());
  private readers = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  /** Ticks while the calling component lives. */
  follow(destroyRef: DestroyRef = inject(DestroyRef)): void {
    this.readers += 1;
    this.timer ??= setInterval(() => this.now.set(new Date()), 1000);
    destroyRef.onDestroy(() => {
      this.readers -= 1;
      if (this.readers === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    });
  }

  /** "95s", "3m20s", "2h5m", "4d"; an em dash when there is no time. */
  age(iso: string | undefined): string {
    return ageText(iso, this.now());
  }
}

/** The clock, ticking while the calling component lives (call it in a field initializer or constructor). */
export function followClock(): Clock {
  const clock = inject(Clock);
  clock.follow();
  return clock;
}

/** kubectl's AGE of `iso` at `now`; an em dash when there is no time. Pure. */
export function ageText(iso: string | undefined, now: Date): string {
  return iso ? humanAge(new Date(iso), now) : '—';
}
