import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';

/**
 * Records that a command event (command, sequence) was applied, in the transaction that applies
 * it; false when it was already (a redelivery, which then changes nothing).
 */
export async function recordReceipt(manager: EntityManager, command: string, sequence: number, now: Date): Promise<boolean> {
  const receipt = await queryPrepared<unknown[]>(
    manager,
    `INSERT INTO command_event_receipts (command, sequence, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING command`,
    [command, sequence, now],
  );
  return receipt.length > 0;
}
