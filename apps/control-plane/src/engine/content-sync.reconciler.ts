import { Inject, Injectable } from '@nestjs/common';
import {
  CONTENT_SYNC_LABEL,
  planContentSync,
  restoreSpecSchema,
  setCondition,
  syncSourceBackupName,
  validateStatus,
  type ContentSyncAction,
  type ContentSyncObservation,
  type ContentSyncStatus,
  type ResourceOf,
  type SyncChildView,
} from '@pressluft/domain';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { createBackup } from './backup-runs.js';
import { own, watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { LeaderElection } from './leader-election.js';

type ContentSync = ResourceOf<'ContentSync'>;

const childView = (object: ResourceOf<'Backup'> | ResourceOf<'Restore'>, sync: string): SyncChildView => ({
  name: object.metadata.name,
  ours: object.metadata.labels[CONTENT_SYNC_LABEL] === sync,
  phase: object.status.phase,
  ...(object.status.message ? { message: object.status.message } : {}),
  ...(object.status.command ? { command: object.status.command } : {}),
});

/** The source backup with the size of what it holds (bytesTotal: the snapshots' size, not what they added). */
const sourceView = (backup: ResourceOf<'Backup'>, sync: string): NonNullable<ContentSyncObservation['sourceBackup']> => {
  const { bytesTotal, files } = backup.status;
  return { ...childView(backup, sync), ...(bytesTotal !== undefined ? { bytes: bytesTotal } : {}), ...(files !== undefined ? { files } : {}) };
};

/**
 * ContentSync runs (libs/domain planContentSync decides), composed from the existing runs: a
 * Backup of the source (`<sync>-source`, reason sync-source), then a Restore `<sync>` of its
 * parts into the target, whose machinery backs the target up first and locks it; the sync
 * mirrors the Restore until it ends. Its children carry the label pressluft.io/contentsync and
 * wake it; it finds them again by name and label after a restart.
 */
@Injectable()
export class ContentSyncReconciler implements Reconciler {
  readonly kind = 'ContentSync';
  readonly watches = [
    own('ContentSync'),
    watch('Backup', ({ object }) => {
      const sync = object.metadata.labels[CONTENT_SYNC_LABEL];
      return sync ? [sync] : [];
    }),
    watch('Restore', ({ object }) => {
      const sync = object.metadata.labels[CONTENT_SYNC_LABEL];
      return sync ? [sync] : [];
    }),
  ];

  constructor(
    private readonly store: ResourceStore,
    private readonly leader: LeaderElection,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const sync = await this.store.get('ContentSync', name);
    if (!sync || sync.status.phase === 'SUCCEEDED' || sync.status.phase === 'FAILED') return {};
    const backup = await this.store.get('Backup', syncSourceBackupName(name));
    const restore = await this.store.get('Restore', name);
    const action = planContentSync({
      sync,
      sourceExists: (await this.store.get('Site', sync.spec.from)) !== undefined,
      targetExists: (await this.store.get('Site', sync.spec.to)) !== undefined,
      sourceBackup: backup ? sourceView(backup, name) : undefined,
      restore: restore ? { ...childView(restore, name), ...(restore.status.preRestoreBackup ? { preRestoreBackup: restore.status.preRestoreBackup } : {}) } : undefined,
    });
    if (action.type === 'none') return {};
    const now = this.clock.now();
    await this.leader.transaction(async (tx) => {
      const fresh = await tx.get('ContentSync', name, { lock: true });
      if (fresh && fresh.metadata.resourceVersion === sync.metadata.resourceVersion) await this.apply(tx, fresh, action, now);
    });
    return {};
  }

  /** Carries out the action on the locked ContentSync. */
  private async apply(tx: ResourceTransaction, sync: ContentSync, action: Exclude<ContentSyncAction, { type: 'none' }>, now: Date): Promise<void> {
    const name = sync.metadata.name;
    const { from, to, parts } = sync.spec;
    const at = now.toISOString();
    const write = (status: ContentSyncStatus): Promise<ContentSync> => tx.update(sync, { ...writeOf(sync), status: { ...status, observedGeneration: sync.metadata.generation } }, now);
    const started = sync.status.startedAt ?? at;
    const target = async (): Promise<ResourceOf<'Site'> | undefined> => tx.get('Site', to);
    switch (action.type) {
      case 'createSourceBackup': {
        const site = await tx.get('Site', action.site, { lock: true });
        if (!site) return;
        const backup = await createBackup(tx, site, action.backup, 'sync-source', { [CONTENT_SYNC_LABEL]: name }, now);
        const updated = await write({ ...sync.status, startedAt: started, sourceBackup: backup.metadata.name, message: `ContentSync ${name}: waiting for the backup ${backup.metadata.name} of site ${from}` });
        await recordEvent(tx, updated, 'Normal', 'SourceBackup', `ContentSync ${name}: Backup ${backup.metadata.name} of site ${from} taken to copy ${parts.join(' and ')} from`, now);
        return;
      }
      case 'createRestore': {
        const status = validateStatus('Restore', {});
        if (!status.ok) throw new Error('the Restore status schema has no valid empty default');
        // Never skipPreRestoreBackup: the target is backed up before it is overwritten.
        const spec = restoreSpecSchema.parse({ backup: action.backup, site: action.site, parts, skipPreRestoreBackup: false });
        const restore = await tx.create({ kind: 'Restore', name: action.restore, labels: { [CONTENT_SYNC_LABEL]: name }, annotations: {}, finalizers: [], spec, status: status.value, generation: 1 }, now);
        if (!restore) return;
        await recordEvent(tx, restore, 'Normal', 'Created', `Restore ${action.restore} of Backup ${action.backup} into site ${to} created by ContentSync ${name} (${parts.join(', ')})`, now);
        const message = `ContentSync ${name}: Restore ${action.restore} moves ${parts.join(' and ')} of Backup ${action.backup} into site ${to}; site ${to} is backed up first`;
        const updated = await write({ ...sync.status, startedAt: started, sourceBackup: action.backup, restore: action.restore, message });
        await recordEvent(tx, updated, 'Normal', 'Restoring', message, now);
        const site = await target();
        if (site) await recordEvent(tx, site, 'Normal', 'ContentSync', message, now);
        return;
      }
      case 'update':
        await write({ ...sync.status, ...action.status, ...(action.status.phase === 'RUNNING' ? { startedAt: started } : {}) });
        return;
      case 'succeed': {
        const { message: _message, ...status } = sync.status;
        const done = await write({
          ...status,
          phase: 'SUCCEEDED',
          completedAt: at,
          moved: action.moved,
          conditions: setCondition(status.conditions, { type: 'Succeeded', status: 'True', reason: 'Synced', message: action.message }, now),
        });
        await recordEvent(tx, done, 'Normal', 'Synced', action.message, now);
        const site = await target();
        if (site) await recordEvent(tx, site, 'Normal', 'Synced', action.message, now);
        return;
      }
      case 'fail': {
        const done = await write({
          ...sync.status,
          phase: 'FAILED',
          completedAt: at,
          message: action.message.slice(0, 1024),
          conditions: setCondition(sync.status.conditions, { type: 'Succeeded', status: 'False', reason: action.reason, message: action.message }, now),
        });
        await recordEvent(tx, done, 'Warning', action.reason, action.message, now);
        const site = await target();
        if (site) await recordEvent(tx, site, 'Warning', action.reason, action.message, now);
        return;
      }
    }
  }
}
