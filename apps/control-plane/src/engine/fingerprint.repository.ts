import { wellFormedFingerprints, type Fingerprints } from '@pressluft/domain';
import type { ResourceTransaction } from '../resources/resource.store.js';

/**
 * The fingerprints the control plane expects on a site's node (table site_fingerprints): what
 * the site's last successful converge reported. Held per incarnation: a row of a deleted site's
 * namesake (another uid) counts as none. Never served by the API.
 */
export async function expectedFingerprints(tx: ResourceTransaction, site: string, uid: string): Promise<Fingerprints | undefined> {
  const [row] = await tx.manager.query<Array<{ fingerprints: Record<string, string> }>>(`SELECT fingerprints FROM site_fingerprints WHERE site = $1 AND site_uid = $2`, [site, uid]);
  return row ? wellFormedFingerprints(row.fingerprints) : undefined;
}

/** Records what to expect from now on; undefined forgets it (nothing is expected until the next converge reports). */
export async function saveExpectedFingerprints(tx: ResourceTransaction, site: string, uid: string, fence: number, fingerprints: Fingerprints | undefined, now: Date): Promise<void> {
  if (fingerprints === undefined) {
    await forgetExpectedFingerprints(tx, site);
    return;
  }
  await tx.manager.query(
    `INSERT INTO site_fingerprints (site, site_uid, fence, fingerprints, applied_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (site) DO UPDATE SET site_uid = EXCLUDED.site_uid, fence = EXCLUDED.fence, fingerprints = EXCLUDED.fingerprints, applied_at = EXCLUDED.applied_at`,
    [site, uid, fence, JSON.stringify(fingerprints), now],
  );
}

export async function forgetExpectedFingerprints(tx: ResourceTransaction, site: string): Promise<void> {
  await tx.manager.query(`DELETE FROM site_fingerprints WHERE site = $1`, [site]);
}
