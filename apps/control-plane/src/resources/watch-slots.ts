import { Inject, Injectable } from '@nestjs/common';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { PressluftError } from '../common/errors.js';
import { CONFIG } from '../infra/tokens.js';

/**
 * Open watches per subject on this replica, at most PRESSLUFT_MAX_WATCHES_PER_SUBJECT: one token
 * cannot hold the replica's connections and poll loops without bound. One more is refused with
 * 429 TooManyRequests (Kubernetes clients retry it after a pause).
 */
@Injectable()
export class WatchSlots {
  private readonly open = new Map<string, number>();

  constructor(@Inject(CONFIG) private readonly config: ControlPlaneConfig) {}

  /** Takes a slot for `subject`; the function gives it back (once). Throws when all are taken. */
  take(subject: string): () => void {
    const held = this.open.get(subject) ?? 0;
    if (held >= this.config.maxWatchesPerSubject) {
      throw new PressluftError('TooManyRequests', `too many open watches for ${subject} (at most ${this.config.maxWatchesPerSubject}); close one and retry`);
    }
    this.open.set(subject, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.open.get(subject) ?? 1) - 1;
      if (left > 0) this.open.set(subject, left);
      else this.open.delete(subject);
    };
  }
}
