import { BACKUP_SNAPSHOTS_FINALIZER, type BackupSpec, type BackupStatus, type Resource } from '@pressluft/domain';
import { recordEvent } from '../events/event.recorder.js';
import { writeOf, type ResourceTransaction } from '../resources/resource.store.js';

type Backup = Resource<BackupSpec, BackupStatus>;

/**
 * A Backup whose snapshots were forgotten in restic goes, with an Event on its Site (the same
 * incarnation) or, the site gone, on the Backup itself. Other controllers' finalizers are
 * honoured: with any left, the Backup is only marked deleted.
 */
export async function removeForgottenBackup(tx: ResourceTransaction, backup: Backup, reason: string, message: string, now: Date): Promise<void> {
  const site = await tx.get('Site', backup.spec.site);
  const involved = site && site.metadata.uid === backup.status.siteUid ? site : backup;
  await recordEvent(tx, involved, 'Normal', reason, message, now);
  const finalizers = backup.metadata.finalizers.filter((f) => f !== BACKUP_SNAPSHOTS_FINALIZER);
  if (finalizers.length === 0) await tx.remove(backup, now);
  else await tx.update(backup, { ...writeOf(backup), finalizers, deletionTimestamp: backup.metadata.deletionTimestamp ?? now.toISOString() }, now);
}
