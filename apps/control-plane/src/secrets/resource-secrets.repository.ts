import type { KindName } from '@pressluft/domain';
import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';
import type { Sealed } from './secret-cipher.js';

export interface SecretRow extends Sealed {
  readonly version: number;
  readonly updatedAt: Date;
}

interface RawSecret {
  ciphertext: Buffer;
  nonce: Buffer;
  version: number;
  updated_at: Date;
}

const toRow = (raw: RawSecret): SecretRow => ({ ciphertext: raw.ciphertext, nonce: raw.nonce, version: raw.version, updatedAt: raw.updated_at });

/** The sealed secret of an object; `lock`: held until the transaction ends (the caller compares, then writes). */
export async function readSecret(manager: EntityManager, kind: KindName, name: string, options: { lock?: boolean } = {}): Promise<SecretRow | undefined> {
  const rows = await queryPrepared<RawSecret[]>(
    manager,
    `SELECT ciphertext, nonce, version, updated_at FROM resource_secrets WHERE kind = $1 AND name = $2${options.lock ? ' FOR UPDATE' : ''}`,
    [kind, name],
  );
  return rows[0] && toRow(rows[0]);
}

/** Stores a new secret for the object (version + 1); the stored row. */
export async function writeSecret(manager: EntityManager, kind: KindName, name: string, sealed: Sealed, now: Date): Promise<SecretRow> {
  const rows = await queryPrepared<RawSecret[]>(
    manager,
    `INSERT INTO resource_secrets (kind, name, ciphertext, nonce, version, updated_at) VALUES ($1, $2, $3, $4, 1, $5)
     ON CONFLICT (kind, name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, nonce = EXCLUDED.nonce, version = resource_secrets.version + 1, updated_at = EXCLUDED.updated_at
     RETURNING ciphertext, nonce, version, updated_at`,
    [kind, name, sealed.ciphertext, sealed.nonce, now],
  );
  const row = rows[0];
  if (!row) throw new Error(`the secret of ${kind}/${name} was not written`);
  return toRow(row);
}

/** With the object's removal, in its transaction. */
export async function deleteSecret(manager: EntityManager, kind: KindName, name: string): Promise<void> {
  await queryPrepared(manager, `DELETE FROM resource_secrets WHERE kind = $1 AND name = $2`, [kind, name]);
}
