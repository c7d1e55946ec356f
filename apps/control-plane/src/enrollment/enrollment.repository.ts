import type { DataSource, EntityManager } from 'typeorm';

/** Serialises writers of the authorization file across transactions and replicas. */
const AUTHZ_LOCK = 7_210_003;

/** The enrolled nodes' names (table node_enrollments), sorted; in the caller's transaction when given a manager. */
export async function enrolledNodes(db: DataSource | EntityManager): Promise<string[]> {
  const rows = await db.query<Array<{ node: string }>>('SELECT node FROM node_enrollments ORDER BY node');
  return rows.map((r) => r.node);
}

/** In the caller's transaction: waits for other writers of the NATS authorization (see AUTHZ_LOCK). */
export async function lockNatsAuthorization(manager: EntityManager): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock($1)', [AUTHZ_LOCK]);
}
