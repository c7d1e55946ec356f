import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';
import type { Sealed } from '../secrets/secret-cipher.js';

/** A store's repository and sealed credentials in one read (no lock); undefined when there is no such store. */
export async function readStoreWithSecret(
  manager: EntityManager,
  store: string,
): Promise<{ repository: string; secret: Sealed | undefined } | undefined> {
  const rows = await queryPrepared<Array<{ repository: string; ciphertext: Buffer | null; nonce: Buffer | null }>>(
    manager,
    `SELECT r.spec->>'repository' AS repository, s.ciphertext, s.nonce
       FROM resources r LEFT JOIN resource_secrets s ON s.kind = r.kind AND s.name = r.name
      WHERE r.kind = 'BackupStore' AND r.name = $1`,
    [store],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { repository: row.repository, secret: row.ciphertext && row.nonce ? { ciphertext: row.ciphertext, nonce: row.nonce } : undefined };
}

/** Up to `limit` Backups that name the store (spec.store or status.store), by name. */
export async function backupsNamingStore(manager: EntityManager, store: string, limit: number): Promise<string[]> {
  const rows = await queryPrepared<Array<{ name: string }>>(
    manager,
    `SELECT name FROM resources WHERE kind = 'Backup' AND (spec->>'store' = $1 OR status->>'store' = $1) ORDER BY name LIMIT $2`,
    [store, limit],
  );
  return rows.map((row) => row.name);
}
