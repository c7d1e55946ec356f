import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { KindName } from '@pressluft/domain';
import type { EntityManager } from 'typeorm';
import type { ZodType } from 'zod';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CONFIG } from '../infra/tokens.js';
import type { ResourceTransaction } from '../resources/resource-transaction.js';
import { readSecret, writeSecret, type SecretRow } from './resource-secrets.repository.js';
import { SecretCipher, type Sealed } from './secret-cipher.js';
import { loadOrCreateSecretsKey } from './secrets-key.file.js';

/** An object's stored secret: its row (version, updatedAt) and the decrypted value. */
export interface StoredSecret<T> {
  readonly row: SecretRow;
  readonly value: T;
}

/** The additional data a secret is sealed with: a row moved to another object does not open. */
const contextOf = (kind: KindName, name: string) => `${kind}/${name}`;

/**
 * The write-only fields of objects (a BackupStore's, a Site's spec.credentials), as one JSON value
 * per object encrypted at rest in resource_secrets (ADR 0026): written in the transaction of the
 * object's write, and the one place they are decrypted.
 */
@Injectable()
export class ResourceSecrets implements OnModuleInit {
  private cipher: SecretCipher | undefined;

  constructor(@Inject(CONFIG) private readonly config: ControlPlaneConfig) {}

  /** The key file is read, or created, at start: a control plane that cannot encrypt does not start. */
  onModuleInit(): void {
    this.ready();
  }

  /** The object's secret (no lock); undefined when it has none. */
  async read<T>(manager: EntityManager, kind: KindName, name: string, schema: ZodType<T>): Promise<T | undefined> {
    const row = await readSecret(manager, kind, name);
    return row && this.open(row, kind, name, schema);
  }

  /**
   * Inside the object's write: takes the object's lock first (in the order every write takes it),
   * then its stored secret, and stores what `next` makes of it when that differs (a new version).
   * `next` answers undefined to store nothing. The secret stored afterwards (undefined: none).
   */
  async update<T>(tx: ResourceTransaction, kind: KindName, name: string, schema: ZodType<T>, now: Date, next: (stored: T | undefined) => T | undefined): Promise<StoredSecret<T> | undefined> {
    tx.requireTransaction();
    await tx.get(kind, name, { lock: true });
    const row = await readSecret(tx.manager, kind, name, { lock: true });
    const stored = row && { row, value: this.open(row, kind, name, schema) };
    const value = next(stored?.value);
    if (value === undefined || (stored && isDeepStrictEqual(stored.value, value))) return stored;
    return { row: await writeSecret(tx.manager, kind, name, this.ready().seal(JSON.stringify(value), contextOf(kind, name)), now), value };
  }

  /** Opens a sealed secret that was read with its object (in one query). */
  open<T>(sealed: Sealed, kind: KindName, name: string, schema: ZodType<T>): T {
    const parsed = schema.safeParse(JSON.parse(this.ready().open(sealed, contextOf(kind, name))));
    if (!parsed.success) throw new Error(`the stored credentials of ${contextOf(kind, name)} do not match the schema`);
    return parsed.data;
  }

  private ready(): SecretCipher {
    this.cipher ??= new SecretCipher(loadOrCreateSecretsKey(this.config.secretsKeyFile));
    return this.cipher;
  }
}
