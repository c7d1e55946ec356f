import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';

/** Deletes at most `limit` records last touched before `before`, oldest first; how many went. */
export type PruneBatch = (manager: EntityManager, before: Date, limit: number) => Promise<number>;

async function count(manager: EntityManager, sql: string, before: Date, limit: number): Promise<number> {
  const [row] = await queryPrepared<Array<{ n: number }>>(manager, sql, [before, limit]);
  return row?.n ?? 0;
}

/**
 * Compacts the change log like etcd: a change goes once it is old and superseded by a later change
 * of the same object that is old too, or is an old deletion. The latest change of every live
 * object stays, and so does the change before a recent one (a list undoing a late commit reads
 * it), and the newest change of all. The compaction point moves to the highest version removed,
 * in the same statement: a watch from below it gets 410.
 */
export const compactChangeLog: PruneBatch = (manager, before, limit) =>
  count(
    manager,
    `WITH gone AS (
       DELETE FROM resource_changes WHERE resource_version IN (
         SELECT c.resource_version FROM resource_changes c
          WHERE c.changed_at < $1 AND c.resource_version < (SELECT max(resource_version) FROM resource_changes)
            AND (c.type = 'DELETED' OR EXISTS (SELECT 1 FROM resource_changes n
                                                WHERE n.kind = c.kind AND n.name = c.name AND n.resource_version > c.resource_version AND n.changed_at < $1))
          ORDER BY c.resource_version LIMIT $2)
       RETURNING resource_version),
     moved AS (
       UPDATE change_log_compaction SET compacted_through = greatest(compacted_through, (SELECT max(resource_version) FROM gone))
        WHERE EXISTS (SELECT 1 FROM gone))
     SELECT count(*)::int AS n FROM gone`,
    before,
    limit,
  );

export const pruneAudit: PruneBatch = (manager, before, limit) =>
  count(manager, `WITH gone AS (DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2) RETURNING 1) SELECT count(*)::int AS n FROM gone`, before, limit);

/** Published rows only (an unsent row is the relay's work, whatever its age). */
export const pruneSentOutbox: PruneBatch = (manager, before, limit) =>
  count(manager, `WITH gone AS (DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at < $1 ORDER BY sent_at LIMIT $2) RETURNING 1) SELECT count(*)::int AS n FROM gone`, before, limit);

export const pruneReceipts: PruneBatch = (manager, before, limit) =>
  count(
    manager,
    `WITH gone AS (DELETE FROM command_event_receipts WHERE (command, sequence) IN (
        SELECT command, sequence FROM command_event_receipts WHERE received_at < $1 ORDER BY received_at LIMIT $2) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    before,
    limit,
  );

/** Names of Events last seen before `before` (their lastTimestamp), oldest first, at most `limit`. */
export async function expiredEventNames(manager: EntityManager, before: Date, limit: number): Promise<string[]> {
  const rows = await queryPrepared<Array<{ name: string }>>(
    manager,
    `SELECT name FROM resources WHERE kind = 'Event' AND (spec ->> 'lastTimestamp')::timestamptz < $1 ORDER BY (spec ->> 'lastTimestamp')::timestamptz LIMIT $2`,
    [before, limit],
  );
  return rows.map((row) => row.name);
}

/**
 * Commands finished before `before` that are not their site's newest (a newer command of the same
 * site incarnation, by the site-uid label, has a higher fence), oldest first.
 */
export async function finishedCommandNames(manager: EntityManager, before: Date, limit: number): Promise<string[]> {
  const rows = await queryPrepared<Array<{ name: string }>>(
    manager,
    `SELECT c.name FROM resources c
      WHERE c.kind = 'Command' AND c.status ->> 'state' IN ('SUCCEEDED', 'FAILED', 'REJECTED')
        AND (c.status ->> 'finishedAt')::timestamptz < $1
        AND EXISTS (SELECT 1 FROM resources n WHERE n.kind = 'Command'
          AND n.labels ->> 'pressluft.io/site-uid' = c.labels ->> 'pressluft.io/site-uid'
          AND (n.spec ->> 'fence')::bigint > (c.spec ->> 'fence')::bigint)
      ORDER BY (c.status ->> 'finishedAt')::timestamptz LIMIT $2`,
    [before, limit],
  );
  return rows.map((row) => row.name);
}

/** Finished runs past retention (FAILED Backups, finished Restores), oldest first. */
export async function finishedRunNames(manager: EntityManager, before: Date, limit: number): Promise<Array<{ kind: 'Backup' | 'Restore'; name: string }>> {
  return queryPrepared<Array<{ kind: 'Backup' | 'Restore'; name: string }>>(
    manager,
    `SELECT kind, name FROM resources
      WHERE ((kind = 'Backup' AND status ->> 'phase' = 'FAILED') OR (kind = 'Restore' AND status ->> 'phase' IN ('SUCCEEDED', 'FAILED')))
        AND (status ->> 'completedAt')::timestamptz < $1
      ORDER BY (status ->> 'completedAt')::timestamptz LIMIT $2`,
    [before, limit],
  );
}
