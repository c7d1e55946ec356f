import { Inject, Injectable } from '@nestjs/common';
import { backupStatusSchema, nextScheduledBackup, scheduledBackupDue } from '@pressluft/domain';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf } from '../resources/resource.store.js';
import { watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';

/**
 * Scheduled backups (spec.backup.schedule): a second controller of Sites beside the Site
 * reconciler, like a CronJob controller. When a run is due (libs/domain scheduledBackupDue) it
 * creates the run's Backup and records the run in status.lastScheduledBackup in one transaction;
 * then it asks to be looked at again at the next run (no polling).
 */
@Injectable()
export class BackupScheduleReconciler implements Reconciler {
  readonly kind = 'Site';
  readonly name = 'SiteBackupSchedule';
  readonly watches = [watch('Site', ({ object }) => [object.metadata.name], ({ object }) => object.spec.backup?.schedule !== undefined)];

  constructor(
    private readonly store: ResourceStore,
    private readonly cache: InformerCache,
    private readonly leader: LeaderElection,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const site = this.cache.site(name) ?? (await this.store.get('Site', name));
    if (!site?.spec.backup?.schedule) return {};
    const now = this.clock.now();
    if (scheduledBackupDue(site, now)) await this.createDue(name, now);
    const next = nextScheduledBackup(site, now);
    return next ? { requeueAfterMs: next.getTime() - now.getTime() } : {};
  }

  /** Decided again on the locked site: a concurrent pass or write may have changed it. */
  private createDue(name: string, now: Date): Promise<void> {
    return this.leader.transaction(async (tx) => {
      const site = await tx.get('Site', name, { lock: true });
      const due = site && scheduledBackupDue(site, now);
      if (!site || !due) return;
      // The name is the run: one that exists already (made by hand under that name) stands for it.
      const created = await tx.create(
        { kind: 'Backup', name: due.name, labels: due.labels, annotations: {}, finalizers: [], spec: due.spec, status: backupStatusSchema.parse({}), generation: 1 },
        now,
      );
      const updated = await tx.update(site, { ...writeOf(site), status: { ...site.status, lastScheduledBackup: due.run.toISOString() } }, now);
      const message = created ? `scheduled backup ${due.name} created for the run at ${due.run.toISOString()}` : `the run at ${due.run.toISOString()} already has backup ${due.name}`;
      await recordEvent(tx, updated, 'Normal', 'BackupScheduled', message, now);
    });
  }
}
