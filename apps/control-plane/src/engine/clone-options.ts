import { cloneBackupName, type ResourceOf } from '@pressluft/domain';
import type { ResourceTransaction } from '../resources/resource.store.js';
import type { IssueOptions, Site } from './command.issuer.js';

/**
 * What a restore of `backup` carries (RestoreSite, CloneSite): its snapshots and store, the
 * domains its site had when it was taken (rewritten to the target's), the commit of its release.
 * Undefined while the backup has no snapshots or store (not SUCCEEDED yet).
 */
export function restoreOptionsOf(backup: ResourceOf<'Backup'> | undefined): IssueOptions | undefined {
  const { snapshots, store, siteSpec, gitCommit } = backup?.status ?? {};
  if (!backup || !snapshots || !store) return undefined;
  const sourceDomains = (siteSpec?.['domains'] as string[] | undefined) ?? [];
  return { backup: backup.metadata.name, store, snapshots, sourceDomains, ...(gitCommit ? { gitCommit } : {}) };
}

/** A clone's CloneSite options: those of its source backup, once that is SUCCEEDED (undefined before, or when it is gone). */
export async function cloneOptions(tx: ResourceTransaction, site: Site): Promise<IssueOptions | undefined> {
  const backup = await tx.get('Backup', site.status.clone?.backup ?? cloneBackupName(site.metadata.name, site.metadata.uid));
  return backup?.status.phase === 'SUCCEEDED' ? restoreOptionsOf(backup) : undefined;
}
