import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';

/** A run (Restore, ContentSync, Promotion) that writes into a site. */
export interface ActiveRun {
  readonly kind: 'ContentSync' | 'Promotion' | 'Restore';
  readonly name: string;
}

/**
 * The run that is writing into `site` now (PENDING or RUNNING), if any: a ContentSync or a
 * Promotion whose spec.to it is (named before a Restore: a sync's own Restore is part of it), or
 * a Restore whose target it is (the one its reconciler resolved, status.site, else spec.site,
 * else its Backup's site).
 */
export async function activeRunOn(manager: EntityManager, site: string): Promise<ActiveRun | undefined> {
  const rows = await queryPrepared<ActiveRun[]>(
    manager,
    `SELECT r.kind, r.name FROM resources r
      WHERE r.kind IN ('ContentSync', 'Promotion', 'Restore') AND r.status ->> 'phase' IN ('PENDING', 'RUNNING')
        AND CASE WHEN r.kind = 'Restore'
              THEN COALESCE(r.status ->> 'site', r.spec ->> 'site',
                            (SELECT b.spec ->> 'site' FROM resources b WHERE b.kind = 'Backup' AND b.name = r.spec ->> 'backup'))
              ELSE r.spec ->> 'to' END = $1
      ORDER BY r.kind, r.name LIMIT 1`,
    [site],
  );
  return rows[0];
}
