import { Inject, Injectable } from '@nestjs/common';
import { commandPrunable, eventExpired, pruneCutoffs, runPrunable, type PrunedRecord } from '@pressluft/domain';
import { periodicLoop, type BackgroundLoop, type Logger } from '@pressluft/platform';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CLOCK, CONFIG, LOGGER, type Clock } from '../infra/tokens.js';
import type { ResourceTransaction } from '../resources/resource.store.js';
import type { Runnable } from './controller-registry.js';
import { LeaderElection } from './leader-election.js';
import { compactChangeLog, expiredEventNames, finishedCommandNames, finishedRunNames, pruneAudit, pruneReceipts, pruneSentOutbox } from './pruning.repository.js';

/** Records per transaction: short transactions, short locks. */
const BATCH = 100;
/** Batches per kind of record and pass: one pass does bounded work; a backlog takes several passes. */
const MAX_BATCHES = 20;

/**
 * Keeps the control plane's state bounded, as etcd's compaction and the Event TTL do: on a clock
 * of its own (leader only), each kind of record is pruned past its retention in batches, each in a
 * fenced leader transaction. Expired Events are deleted as objects (watchers see DELETED), first,
 * so the change log compaction after them counts from the same instant.
 */
@Injectable()
export class Pruner implements Runnable {
  private readonly loop: BackgroundLoop;

  constructor(
    private readonly leader: LeaderElection,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loop = periodicLoop(config.engine.pruneEveryMs, () => this.prune(), (error) => this.logger.warn({ err: error }, 'engine: pruning failed'));
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass; how many records of each kind went. */
  async prune(): Promise<Record<PrunedRecord, number>> {
    const now = this.clock.now();
    const cutoffs = pruneCutoffs(now, this.config.retention);
    const batches: Record<PrunedRecord, (tx: ResourceTransaction, before: Date) => Promise<number>> = {
      eventsMs: (tx, before) => this.removeEvents(tx, before, now),
      changeLogMs: (tx, before) => compactChangeLog(tx.manager, before, BATCH),
      auditMs: (tx, before) => pruneAudit(tx.manager, before, BATCH),
      outboxSentMs: (tx, before) => pruneSentOutbox(tx.manager, before, BATCH),
      receiptsMs: (tx, before) => pruneReceipts(tx.manager, before, BATCH),
      commandsMs: (tx, before) => this.removeCommands(tx, before, now),
      runsMs: (tx, before) => this.removeRuns(tx, before, now),
    };
    const pruned = { eventsMs: 0, changeLogMs: 0, auditMs: 0, outboxSentMs: 0, receiptsMs: 0, commandsMs: 0, runsMs: 0 };
    for (const record of Object.keys(batches) as PrunedRecord[]) {
      for (let batch = 0; batch < MAX_BATCHES; batch++) {
        const count = await this.leader.transaction((tx) => batches[record](tx, cutoffs[record]));
        pruned[record] += count;
        if (count < BATCH) break;
      }
    }
    if (Object.values(pruned).some((count) => count > 0)) this.logger.info({ pruned }, 'engine: pruned records past their retention');
    return pruned;
  }

  /** Finished Commands past retention, as objects (watchers see DELETED); never a site's newest. */
  private async removeCommands(tx: ResourceTransaction, before: Date, now: Date): Promise<number> {
    const names = await finishedCommandNames(tx.manager, before, BATCH);
    for (const name of names) {
      const command = await tx.get('Command', name, { lock: true });
      // Listed as not its site's newest; a retry may have reopened it since.
      if (command && commandPrunable(command.status.state, command.status.finishedAt, before)) await tx.remove(command, now);
    }
    return names.length;
  }

  /** Failed Backups and finished Restores past retention, as objects. */
  private async removeRuns(tx: ResourceTransaction, before: Date, now: Date): Promise<number> {
    const runs = await finishedRunNames(tx.manager, before, BATCH);
    for (const { kind, name } of runs) {
      const run = await tx.get(kind, name, { lock: true });
      if (run && runPrunable(kind, run.status.phase, run.status.completedAt, before)) await tx.remove(run, now);
    }
    return runs.length;
  }

  private async removeEvents(tx: ResourceTransaction, before: Date, now: Date): Promise<number> {
    const names = await expiredEventNames(tx.manager, before, BATCH);
    for (const name of names) {
      const event = await tx.get('Event', name, { lock: true });
      // Repeated since it was listed: its TTL counts from the repeat.
      if (event && eventExpired(event.spec.lastTimestamp, before)) await tx.remove(event, now);
    }
    return names.length;
  }
}
