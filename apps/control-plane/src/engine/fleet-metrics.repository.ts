import type { DataSource } from 'typeorm';
import { CONTROLLER_LEASE } from './leader-election.js';

/** What /metrics reports about the fleet, read from the state store in one pass (fleet.metrics.ts). */
export interface FleetSnapshot {
  readonly sitesByPhase: ReadonlyMap<string, number>;
  /** Sites FAILED or Drifted=True now (few: only these get a per-site series). */
  readonly troubledSites: readonly TroubledSite[];
  readonly nodes: readonly NodeReadiness[];
  readonly commandsByState: ReadonlyMap<string, number>;
  readonly stalledCommands: readonly StalledCommand[];
  readonly backupsByPhase: ReadonlyMap<string, number>;
  readonly siteBackups: readonly SiteBackups[];
  readonly outbox: { readonly unsent: number; readonly oldestSeconds: number };
  /** The controller lease's epoch: + 1 each time the lease changes hands (undefined before the first election). */
  readonly leaderEpoch: number | undefined;
}

export interface TroubledSite {
  readonly site: string;
  readonly node: string;
  readonly failed: boolean;
  readonly drifted: boolean;
}

export interface NodeReadiness {
  readonly node: string;
  readonly ready: boolean;
}

export interface StalledCommand {
  readonly command: string;
  readonly site: string;
  readonly node: string;
  readonly operation: string;
}

/** A site with a backup schedule (not being deleted), and its newest finished backups of this incarnation. */
export interface SiteBackups {
  readonly site: string;
  readonly schedule: string;
  readonly created: Date;
  readonly lastSuccess: Date | undefined;
  /** The newest finished backup FAILED (no later one SUCCEEDED). */
  readonly lastFailed: boolean;
}

type CountRow = { key: string | null; count: string };
const counts = (rows: CountRow[]): Map<string, number> => new Map(rows.map((r) => [r.key ?? '', Number(r.count)]));
const DRIFTED = `status -> 'conditions' @> '[{"type":"Drifted","status":"True"}]'`;
/** Backups of this incarnation of site `s` (a site deleted and made again under its name has another uid). */
const BACKUPS_OF_SITE = `b.kind = 'Backup' AND b.spec ->> 'site' = s.name AND b.status ->> 'siteUid' = s.uid::text`;

/**
 * The queries behind the fleet gauges, each an aggregate or a list bounded by what is wrong now
 * (or by the number of nodes, or of sites with a backup schedule). One read-only snapshot on one
 * connection: the numbers agree with each other, and a scrape holds one pool connection at most.
 */
export function readFleetSnapshot(db: DataSource): Promise<FleetSnapshot> {
  return db.transaction('REPEATABLE READ', async (tx) => {
    await tx.query('SET TRANSACTION READ ONLY');
    const sitesByPhase = await tx.query<CountRow[]>(`SELECT status ->> 'phase' AS key, count(*)::text AS count FROM resources WHERE kind = 'Site' GROUP BY 1`);
    const troubled = await tx.query<Array<{ site: string; node: string | null; failed: boolean; drifted: boolean }>>(
      `SELECT name AS site, status ->> 'nodeName' AS node, status ->> 'phase' = 'FAILED' AS failed, coalesce(${DRIFTED}, false) AS drifted
         FROM resources WHERE kind = 'Site' AND (status ->> 'phase' = 'FAILED' OR ${DRIFTED})`,
    );
    const nodes = await tx.query<NodeReadiness[]>(
      `SELECT name AS node, coalesce(status -> 'conditions' @> '[{"type":"Ready","status":"True"}]', false) AS ready FROM resources WHERE kind = 'Node'`,
    );
    const commandsByState = await tx.query<CountRow[]>(`SELECT status ->> 'state' AS key, count(*)::text AS count FROM resources WHERE kind = 'Command' GROUP BY 1`);
    const stalledCommands = await tx.query<StalledCommand[]>(
      `SELECT name AS command, spec ->> 'site' AS site, spec ->> 'node' AS node, spec ->> 'operation' AS operation
         FROM resources WHERE kind = 'Command' AND status ->> 'state' = 'STALLED'`,
    );
    const backupsByPhase = await tx.query<CountRow[]>(`SELECT status ->> 'phase' AS key, count(*)::text AS count FROM resources WHERE kind = 'Backup' GROUP BY 1`);
    const backups = await tx.query<Array<{ site: string; schedule: string; created: Date; last_success: string | null; last_finished: string | null }>>(
      `SELECT s.name AS site, s.spec -> 'backup' ->> 'schedule' AS schedule, s.creation_timestamp AS created,
              (SELECT max(b.status ->> 'completedAt') FROM resources b WHERE ${BACKUPS_OF_SITE} AND b.status ->> 'phase' = 'SUCCEEDED') AS last_success,
              (SELECT b.status ->> 'phase' FROM resources b WHERE ${BACKUPS_OF_SITE} AND b.status ->> 'phase' IN ('SUCCEEDED', 'FAILED')
                ORDER BY b.status ->> 'completedAt' DESC NULLS LAST LIMIT 1) AS last_finished
         FROM resources s
        WHERE s.kind = 'Site' AND s.deletion_timestamp IS NULL AND s.spec -> 'backup' ->> 'schedule' IS NOT NULL`,
    );
    const [outbox] = await tx.query<Array<{ unsent: string; oldest: number | null }>>(
      `SELECT count(*)::text AS unsent, extract(epoch FROM now() - min(created_at))::float8 AS oldest FROM outbox WHERE sent_at IS NULL`,
    );
    const [lease] = await tx.query<Array<{ epoch: string }>>(`SELECT epoch::text AS epoch FROM leases WHERE name = $1`, [CONTROLLER_LEASE]);
    return {
      sitesByPhase: counts(sitesByPhase),
      troubledSites: troubled.map((r) => ({ site: r.site, node: r.node ?? '', failed: r.failed, drifted: r.drifted })),
      nodes,
      commandsByState: counts(commandsByState),
      stalledCommands,
      backupsByPhase: counts(backupsByPhase),
      siteBackups: backups.map((r) => ({
        site: r.site,
        schedule: r.schedule,
        created: r.created,
        lastSuccess: r.last_success ? new Date(r.last_success) : undefined,
        lastFailed: r.last_finished === 'FAILED',
      })),
      outbox: { unsent: Number(outbox?.unsent ?? 0), oldestSeconds: Math.max(0, outbox?.oldest ?? 0) },
      leaderEpoch: lease ? Number(lease.epoch) : undefined,
    };
  });
}
