import { isDeepStrictEqual } from 'node:util';
import { restoreTarget, type BackupSpec, type KindName, type ManifestInput, type Resource, type RestoreSpec } from '@pressluft/domain';
import { conflict, PressluftError } from '../common/errors.js';
import type { ResourceTransaction } from './resource-transaction.js';
import { activeRestoreOf } from './restore.queries.js';

function invalid(kind: KindName, name: string, field: string, message: string): PressluftError {
  return new PressluftError('Invalid', `${kind} "${name}" is invalid: ${field}: ${message}`, [{ field, message }], { kind, name });
}

/**
 * Admission for backups and restores, in the write's transaction. A Backup is of a site that
 * exists (into a store that exists, when it names one), and is a record once made: only spec.retain changes. A Restore names a SUCCEEDED
 * Backup, is immutable, and one at a time per site (a second one is refused with 409 rather than
 * queued: its pre-restore backup would capture the first one's half-done state). While a
 * Restore works on a site (PENDING or RUNNING), the site's spec does not change and it is not
 * deleted (409). `current` undefined: a create; `input` undefined: a delete.
 */
export async function admitRunWrite(tx: ResourceTransaction, kind: KindName, current: Resource | undefined, input: ManifestInput | undefined): Promise<void> {
  switch (kind) {
    case 'Backup':
      if (input) await admitBackup(tx, current, input);
      return;
    case 'Restore':
      if (input) await admitRestore(tx, current, input);
      return;
    case 'Site':
      if (current && (!input || !isDeepStrictEqual(current.spec, input.spec))) await refuseWhileRestoring(tx, current.metadata.name, input ? 'its spec cannot change' : 'it cannot be deleted');
      return;
    case 'BackupStore':
    case 'Command':
    case 'Event':
    case 'Node':
      return;
  }
}

async function admitBackup(tx: ResourceTransaction, current: Resource | undefined, input: ManifestInput): Promise<void> {
  const spec = input.spec as BackupSpec;
  if (current) {
    const before = current.spec as BackupSpec;
    if (!isDeepStrictEqual({ ...before, retain: spec.retain }, spec)) throw invalid('Backup', input.name, 'spec', 'is immutable once created, except spec.retain');
    return;
  }
  if (!(await tx.get('Site', spec.site))) throw invalid('Backup', input.name, 'spec.site', `site ${spec.site} does not exist`);
  if (spec.store && !(await tx.get('BackupStore', spec.store))) throw invalid('Backup', input.name, 'spec.store', `backup store ${spec.store} does not exist`);
}

async function admitRestore(tx: ResourceTransaction, current: Resource | undefined, input: ManifestInput): Promise<void> {
  const spec = input.spec as RestoreSpec;
  if (current) {
    if (!isDeepStrictEqual(current.spec, spec)) throw invalid('Restore', input.name, 'spec', 'is immutable once created');
    return;
  }
  const backup = await tx.get('Backup', spec.backup);
  if (!backup) throw invalid('Restore', input.name, 'spec.backup', `backup ${spec.backup} does not exist`);
  if (backup.status.phase !== 'SUCCEEDED') throw invalid('Restore', input.name, 'spec.backup', `backup ${spec.backup} is ${backup.status.phase}; only a SUCCEEDED backup can be restored`);
  const target = restoreTarget({ spec, status: { phase: 'PENDING', observedGeneration: 0, conditions: [] } }, backup);
  if (target) {
    const other = await activeRestoreOf(tx.manager, target);
    if (other) throw conflict('restores', input.name, `site ${target} is being restored by Restore ${other}; wait until it finished`);
  }
}

async function refuseWhileRestoring(tx: ResourceTransaction, site: string, what: string): Promise<void> {
  const restore = await activeRestoreOf(tx.manager, site);
  if (restore) throw conflict('sites', site, `the site is being restored by Restore ${restore}; ${what} until it finished`);
}
