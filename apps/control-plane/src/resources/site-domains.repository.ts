import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';

/** A domain a site asked for that another site holds. */
export interface TakenDomain {
  readonly domain: string;
  readonly holder: string;
}

/**
 * Inside the Site write's transaction: `site` gives up `released` and claims `claimed`. The
 * primary key decides a race: an insert that meets another transaction's uncommitted claim waits
 * for it, then either takes the domain (the other rolled back) or conflicts. Answers the first
 * claimed domain another site holds (the caller then refuses the write and rolls back).
 */
export async function claimSiteDomains(
  manager: EntityManager,
  site: string,
  claimed: readonly string[],
  released: readonly string[],
): Promise<TakenDomain | undefined> {
  if (released.length > 0) {
    await queryPrepared(manager, `DELETE FROM site_domains WHERE site = $1 AND domain = ANY($2::text[])`, [site, released]);
  }
  let wanted = [...claimed];
  // A holder that frees the domain between our conflict and our look-up leaves it free: claim again.
  for (let attempt = 0; wanted.length > 0 && attempt < 3; attempt++) {
    const rows = await queryPrepared<Array<{ domain: string }>>(
      manager,
      `INSERT INTO site_domains (domain, site) SELECT domain, $1 FROM unnest($2::text[]) AS domain ON CONFLICT (domain) DO NOTHING RETURNING domain`,
      [site, wanted],
    );
    const got = new Set(rows.map((row) => row.domain));
    const missing = wanted.filter((domain) => !got.has(domain));
    if (missing.length === 0) return undefined;
    // A new statement, a new snapshot: it sees the claim we conflicted with (committed by now).
    const holders = await queryPrepared<Array<{ domain: string; site: string }>>(
      manager,
      `SELECT domain, site FROM site_domains WHERE domain = ANY($1::text[])`,
      [missing],
    );
    const holderOf = new Map(holders.map((row) => [row.domain, row.site]));
    const taken = missing.find((domain) => holderOf.has(domain) && holderOf.get(domain) !== site);
    if (taken !== undefined) return { domain: taken, holder: holderOf.get(taken) ?? '' };
    wanted = missing.filter((domain) => !holderOf.has(domain));
  }
  if (wanted.length > 0) throw new Error(`the claim of ${wanted.join(', ')} for site ${site} did not settle`);
  return undefined;
}

/** Inside the transaction that removes a Site's row: its domains are free for others. */
export async function releaseSiteDomains(manager: EntityManager, site: string): Promise<void> {
  await queryPrepared(manager, `DELETE FROM site_domains WHERE site = $1`, [site]);
}
