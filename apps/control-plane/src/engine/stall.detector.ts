import { Inject, Injectable } from '@nestjs/common';
import { stalledCommand } from '@pressluft/domain';
import { periodicLoop, type BackgroundLoop, type Logger } from '@pressluft/platform';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, CONFIG, LOGGER, type Clock } from '../infra/tokens.js';
import type { Runnable } from './controller-registry.js';
import { CommandQueries } from '../resources/command.queries.js';
import { ResourceStore, writeOf } from '../resources/resource.store.js';
import { LeaderElection } from './leader-election.js';

/**
 * A command that was dispatched (or started) and then went silent for the stall window becomes
 * STALLED with a Warning event; the site's reconciler then reports Stalled=True and waits for an
 * operator. Nothing is retried here: destructive commands are never retried automatically.
 * Silence produces no change to react to, so it sweeps on a clock of its own (leader only).
 */
@Injectable()
export class StallDetector implements Runnable {
  private readonly loop: BackgroundLoop;

  constructor(
    private readonly store: ResourceStore,
    private readonly commands: CommandQueries,
    private readonly leader: LeaderElection,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const every = Math.max(500, Math.min(5000, Math.floor(config.engine.stallWindowMs / 4)));
    this.loop = periodicLoop(every, () => this.sweep(), (error) => this.logger.warn({ err: error }, 'engine: periodic task failed'));
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass; the commands it marked STALLED. */
  async sweep(): Promise<string[]> {
    const now = this.clock.now();
    const dispatched = await this.commands.dispatched();
    const stalled: string[] = [];
    for (const command of dispatched) {
      if (!stalledCommand(command.status, now, this.config.engine.stallWindowMs)) continue;
      const marked = await this.leader.transaction(async (tx) => {
        const fresh = await tx.get('Command', command.metadata.name, { lock: true });
        if (!fresh || fresh.metadata.resourceVersion !== command.metadata.resourceVersion) return false;
        const silence = Math.round(this.config.engine.stallWindowMs / 1000);
        await tx.update(fresh, { ...writeOf(fresh), status: { ...fresh.status, state: 'STALLED', message: `no heartbeat for more than ${silence}s` } }, now);
        const site = await tx.get('Site', fresh.spec.site);
        if (site) {
          await recordEvent(tx, site, 'Warning', 'CommandStalled', `${fresh.spec.operation} (fence ${fresh.spec.fence}) on ${fresh.spec.node}: no heartbeat for more than ${silence}s; retry or abandon it through the API`, now);
        }
        return true;
      });
      if (marked) stalled.push(command.metadata.name);
    }
    return stalled;
  }
}
