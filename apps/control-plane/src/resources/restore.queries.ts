import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';

/**
 * The Restore that is restoring into `site` now (PENDING or RUNNING), if any. Its target is the
 * one its reconciler resolved (status.site), else spec.site, else its Backup's site.
 */
export async function activeRestoreOf(manager: EntityManager, site: string): Promise<string | undefined> {
  const rows = await queryPrepared<Array<{ name: string }>>(
    manager,
    `SELECT r.name FROM resources r
      WHERE r.kind = 'Restore' AND r.status ->> 'phase' IN ('PENDING', 'RUNNING')
        AND COALESCE(r.status ->> 'site', r.spec ->> 'site',
                     (SELECT b.spec ->> 'site' FROM resources b WHERE b.kind = 'Backup' AND b.name = r.spec ->> 'backup')) = $1
      ORDER BY r.name LIMIT 1`,
    [site],
  );
  return rows[0]?.name;
}
