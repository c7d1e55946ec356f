import type { DataSource, EntityManager } from 'typeorm';
import type { AuditRow } from '../persistence/entities.js';
import { queryPrepared } from '../persistence/prepared.js';
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
