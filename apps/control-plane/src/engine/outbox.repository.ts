import type { DataSource, EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';

/** An unsent outbox row: the command's protobuf for its subject. */
export interface OutboxRow {
  readonly id: string;
  readonly command: string;
  readonly subject: string;
  readonly payload: Buffer;
}

/** The command's message, in the transaction that issues it (the relay publishes it after commit). */
export async function insertOutbox(manager: EntityManager, command: string, subject: string, payload: Buffer, now: Date): Promise<void> {
  await queryPrepared(manager, `INSERT INTO outbox (command, subject, payload, created_at) VALUES ($1, $2, $3, $4)`, [command, subject, payload, now]);
}

/** The oldest unsent rows, at most `limit`, in the order they were written. */
export function unsentOutbox(db: DataSource, limit: number): Promise<OutboxRow[]> {
  return db.query<OutboxRow[]>(
    `SELECT id::text AS id, command, subject, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1`,
    [limit],
  );
}

export async function markOutboxSent(manager: EntityManager, ids: readonly string[]): Promise<void> {
  await manager.query(`UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
}

/** Commands whose rows were published while the command is still PENDING, with when each was sent. */
export function sentButPending(db: DataSource): Promise<Array<{ command: string; sent_at: Date }>> {
  return db.query<Array<{ command: string; sent_at: Date }>>(
    `SELECT o.command, o.sent_at FROM outbox o JOIN resources r ON r.kind = 'Command' AND r.name = o.command
        WHERE o.sent_at IS NOT NULL AND r.status ->> 'state' = 'PENDING'`,
  );
}
