import { cloneBackupName } from '@pressluft/domain';
import type { ResourceTransaction } from '../resources/resource.store.js';
import type { IssueOptions, Site } from './command.issuer.js';

/**
 * What a clone's CloneSite carries: its source backup's snapshots and store, and the domains the
 * source had when it was taken (rewritten to the clone's). Undefined while that backup is not
 * SUCCEEDED (or is gone).
 */
export async function cloneOptions(tx: ResourceTransaction, site: Site): Promise<IssueOptions | undefined> {
  const backup = await tx.get('Backup', site.status.clone?.backup ?? cloneBackupName(site.metadata.name, site.metadata.uid));
  const { snapshots, store, siteSpec } = backup?.status ?? {};
  if (!backup || backup.status.phase !== 'SUCCEEDED' || !snapshots || !store) return undefined;
  const sourceDomains = (siteSpec?.['domains'] as string[] | undefined) ?? [];
  return { backup: backup.metadata.name, store, snapshots, sourceDomains, ...(backup.status.gitCommit ? { gitCommit: backup.status.gitCommit } : {}) };
}
