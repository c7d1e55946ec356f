import type { DataSource, EntityManager } from 'typeorm';
import type { NodeCertificates } from './nats-authz.js';

/** Serialises writers of the authorization file across transactions and replicas. */
const AUTHZ_LOCK = 7_210_003;

/** Enrollments (alias e) whose Node resource is gone. */
const OF_DELETED_NODE = `NOT EXISTS (SELECT 1 FROM resources r WHERE r.kind = 'Node' AND r.name = e.node)`;

/** The enrolled nodes' names (table node_enrollments), sorted; in the caller's transaction when given a manager. */
export async function enrolledNodes(db: DataSource | EntityManager): Promise<string[]> {
  const rows = await db.query<Array<{ node: string }>>('SELECT node FROM node_enrollments ORDER BY node');
  return rows.map((r) => r.node);
}

/** Each enrolled node's certificates that NATS accepts: the current one and the one its last renewal replaced. */
export async function enrolledCertificates(manager: EntityManager): Promise<NodeCertificates[]> {
  const rows = await manager.query<Array<{ node: string; serial: string; previous_serial: string | null }>>('SELECT node, serial, previous_serial FROM node_enrollments ORDER BY node');
  return rows.map((r) => ({ node: r.node, serials: r.previous_serial ? [r.serial, r.previous_serial] : [r.serial] }));
}

/** Whether some enrollment belongs to a deleted Node (a cheap check outside any transaction). */
export async function enrollmentsOfDeletedNodesExist(db: DataSource): Promise<boolean> {
  const rows = await db.query<unknown[]>(`SELECT 1 FROM node_enrollments e WHERE ${OF_DELETED_NODE} LIMIT 1`);
  return rows.length > 0;
}

/** Removes the enrollments of deleted Nodes (their certificates can no longer renew); returns those nodes. */
export async function removeEnrollmentsOfDeletedNodes(manager: EntityManager): Promise<string[]> {
  const rows = await manager.query<Array<{ node: string }>>(`WITH gone AS (DELETE FROM node_enrollments e WHERE ${OF_DELETED_NODE} RETURNING e.node) SELECT node FROM gone ORDER BY node`);
  return rows.map((r) => r.node);
}

/** In the caller's transaction: waits for other writers of the NATS authorization (see AUTHZ_LOCK). */
export async function lockNatsAuthorization(manager: EntityManager): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock($1)', [AUTHZ_LOCK]);
}
