import type { DataSource, EntityManager } from 'typeorm';
import { AuditRow } from '../persistence/entities.js';
import { queryPrepared } from '../persistence/prepared.js';
import type { AuditQuery } from './audit.query.js';
import type { AuditEntry } from './request-audit.js';

/** The head of every INSERT of audit rows (the middleware's batches, insertAudit, the resource write statement). */
export const AUDIT_INSERT = 'INSERT INTO audit_log (at, subject, verb, path, code, reason, request_id)';

/**
 * Inserts an accepted mutation's audit row inside the transaction that makes the mutation, so the
 * two commit together or not at all. (Resource writes do the same inside their write statement,
 * see RequestAudit in resource-transaction.ts.)
 */
export async function insertAudit(manager: EntityManager, entry: AuditEntry | undefined): Promise<void> {
  if (!entry) return;
  await queryPrepared(manager, `${AUDIT_INSERT} VALUES ($1, $2, $3, $4, $5, NULL, $6)`, [
    entry.at,
    entry.subject,
    entry.verb,
    entry.path,
    entry.code,
    entry.requestId,
  ]);
}

/** Audit rows without a committed change (refusals, dry runs, no-op writes, counted anonymous requests): one multi-row INSERT. */
export async function insertAuditRows(db: DataSource, rows: ReadonlyArray<Omit<AuditRow, 'id'>>): Promise<void> {
  const values: unknown[] = [];
  const tuples = rows.map((row, i) => {
    values.push(row.at, row.subject, row.verb, row.path, row.code, row.reason, row.requestId, row.count);
    const b = i * 8;
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8})`;
  });
  await db.query(`INSERT INTO audit_log (at, subject, verb, path, code, reason, request_id, count) VALUES ${tuples.join(', ')}`, values);
}

/**
 * The audit rows `query` selects, newest first, one more than its limit (so the caller knows
 * whether an older page exists). Newest by the request's arrival (`at`; the id breaks ties): ids
 * are not in arrival order, since a refusal's row is written after its answer. The `before`
 * cursor is a row's id; the page continues below that row's (at, id).
 */
export async function findAuditRows(db: DataSource, query: AuditQuery): Promise<AuditRow[]> {
  const select = db.getRepository(AuditRow).createQueryBuilder('a').orderBy('a.at', 'DESC').addOrderBy('a.id', 'DESC').limit(query.limit + 1);
  if (query.subject !== undefined) select.andWhere('a.subject = :subject', { subject: query.subject });
  if (query.verb !== undefined) select.andWhere('a.verb = :verb', { verb: query.verb });
  if (query.path !== undefined) select.andWhere('starts_with(a.path, :path)', { path: query.path });
  if (query.code !== undefined) select.andWhere('a.code = :code', { code: query.code });
  if (query.outcome === 'ok') select.andWhere('a.code BETWEEN 1 AND 399');
  if (query.outcome === 'refused') select.andWhere('(a.code >= 400 OR a.code = 0)');
  if (query.since) select.andWhere('a.at >= :since', { since: query.since });
  if (query.until) select.andWhere('a.at < :until', { until: query.until });
  if (query.before !== undefined) select.andWhere('(a.at, a.id) < (SELECT c.at, c.id FROM audit_log c WHERE c.id = :before)', { before: query.before });
  return select.getMany();
}
