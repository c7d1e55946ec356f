import { Inject, Injectable } from '@nestjs/common';
import { BACKUP_SNAPSHOTS_FINALIZER, snapshotIds, snapshotsFinalizerStep, storesInUse, type BackupSpec, type BackupStatus, type Resource } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import { BackupStoreSecrets } from '../backup-stores/backup-store.secrets.js';
import { Restic } from '../backups/restic.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, LOGGER, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf } from '../resources/resource.store.js';
import { removeForgottenBackup } from './backup-removal.js';
import { BackupRetentionRunner } from './backup-retention.runner.js';
import { watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { LeaderElection } from './leader-election.js';

/** A store that cannot be reached is tried again after this long (not in a hot backoff loop). */
const RETRY_FORGET_MS = 5 * 60_000;
/** A store a backup is running into is looked at again after this long (prune would fail that backup). */
const STORE_IN_USE_MS = 60_000;

/**
 * The snapshots finalizer (pressluft.io/backup-snapshots), a second controller of Backups beside
 * the Backup reconciler: a SUCCEEDED Backup gets it (and the retention runner a prompt pass); a
 * Backup deleted by a user has its restic snapshots forgotten (forget + prune) before it goes.
 */
@Injectable()
export class BackupSnapshotsReconciler implements Reconciler {
  readonly kind = 'Backup';
  readonly name = 'BackupSnapshots';
  readonly watches = [watch('Backup', ({ object }) => [object.metadata.name], ({ object }) => snapshotsFinalizerStep(object) !== 'none')];

  constructor(
    private readonly store: ResourceStore,
    private readonly leader: LeaderElection,
    private readonly secrets: BackupStoreSecrets,
    private readonly restic: Restic,
    private readonly retention: BackupRetentionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const backup = await this.store.get('Backup', name);
    if (!backup) return {};
    switch (snapshotsFinalizerStep(backup)) {
      case 'add':
        await this.addFinalizer(backup);
        return {};
      case 'forget':
        return this.forget(backup);
      case 'none':
        return {};
    }
  }

  private async addFinalizer(observed: Resource<BackupSpec, BackupStatus>): Promise<void> {
    const added = await this.leader.transaction(async (tx) => {
      const backup = await tx.get('Backup', observed.metadata.name, { lock: true });
      if (!backup || snapshotsFinalizerStep(backup) !== 'add') return false;
      await tx.update(backup, { ...writeOf(backup), finalizers: [...backup.metadata.finalizers, BACKUP_SNAPSHOTS_FINALIZER] }, this.clock.now());
      return true;
    });
    // A new SUCCEEDED backup may push an older one out of the policy.
    if (added) this.retention.poke();
  }

  private async forget(backup: Resource<BackupSpec, BackupStatus>): Promise<ReconcileResult> {
    const name = backup.metadata.name;
    const store = backup.status.store;
    if (store !== undefined && storesInUse((await this.store.list('Backup')).items, (await this.store.list('Restore')).items).has(store)) return { requeueAfterMs: STORE_IN_USE_MS };
    try {
      const access = store === undefined ? undefined : await this.secrets.access(store);
      if (!access) throw new Error(`backup store ${store ?? '(none)'} does not exist or has no credentials`);
      await this.restic.forget(access, snapshotIds(backup));
    } catch (error) {
      this.logger.warn({ err: error, backup: name, store }, `Backup ${name}: forgetting its snapshots failed; the deletion waits`);
      await this.leader.transaction((tx) => recordEvent(tx, backup, 'Warning', 'ForgetFailed', `the snapshots of backup ${name} could not be forgotten in store ${store ?? '(none)'}; the deletion waits and is tried again`, this.clock.now()));
      return { requeueAfterMs: RETRY_FORGET_MS };
    }
    await this.leader.transaction(async (tx) => {
      const current = await tx.get('Backup', name, { lock: true });
      if (!current || current.metadata.uid !== backup.metadata.uid || snapshotsFinalizerStep(current) !== 'forget') return;
      await removeForgottenBackup(tx, current, 'BackupDeleted', `backup ${name} deleted: its snapshots were forgotten in store ${store ?? '(none)'}`, this.clock.now());
    });
    this.logger.info({ backup: name, store }, `Backup ${name}: snapshots forgotten, backup deleted`);
    return {};
  }
}
