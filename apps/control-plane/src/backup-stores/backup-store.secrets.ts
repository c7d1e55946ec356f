import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { backupStoreCredentialsSchema, type BackupStoreCredentials, type BackupStoreStatus, type KindName, type Resource } from '@pressluft/domain';
import { DataSource } from 'typeorm';
import { conflict } from '../common/errors.js';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CONFIG } from '../infra/tokens.js';
import type { ResourceTransaction } from '../resources/resource-transaction.js';
import { backupsNamingStore, readSecret, readStoreWithSecret, writeSecret } from './resource-secrets.repository.js';
import { SecretCipher, type Sealed } from './secret-cipher.js';
import { loadOrCreateSecretsKey } from './secrets-key.file.js';

/** A BackupStore's repository with its decrypted credentials: only in memory, only for one use. */
export interface StoreAccess {
  readonly repository: string;
  readonly password: string;
  readonly sshPrivateKey?: string;
  readonly sshKnownHosts?: string;
  readonly restUsername?: string;
  readonly restPassword?: string;
}

/** How many referencing Backups a refused delete names. */
const NAMED_BACKUPS = 10;

/** The additional data a store's secret is sealed with: a row moved to another object does not open. */
const contextOf = (kind: KindName, name: string) => `${kind}/${name}`;

/**
 * A BackupStore's write-only credentials, encrypted at rest (resource_secrets, ADR 0026): written
 * in the transaction of the store's write, and the one place they are decrypted. Used by the
 * gRPC NodeService (for an agent's in-flight command) and by the retention runner (restic forget).
 */
@Injectable()
export class BackupStoreSecrets implements OnModuleInit {
  private cipher: SecretCipher | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    private readonly dataSource: DataSource,
  ) {}

  /** The key file is read, or created, at start: a control plane that cannot encrypt does not start. */
  onModuleInit(): void {
    this.ready();
  }

  /** The store's repository and credentials; undefined when the store does not exist or has none. */
  async access(store: string): Promise<StoreAccess | undefined> {
    const found = await readStoreWithSecret(this.dataSource.manager, store);
    if (!found?.secret) return undefined;
    return { repository: found.repository, ...this.open(found.secret, 'BackupStore', store) };
  }

  /**
   * Inside the store's write: stores `credentials` when they differ from the stored ones (a new
   * version), and answers the status.credentials the object carries. Takes the object's lock
   * first, in the order every write takes it. Undefined without credentials (the stored stay).
   */
  async write(tx: ResourceTransaction, name: string, credentials: BackupStoreCredentials | undefined, now: Date): Promise<Partial<BackupStoreStatus> | undefined> {
    if (!credentials) return undefined;
    await tx.get('BackupStore', name, { lock: true });
    const context = contextOf('BackupStore', name);
    const stored = await readSecret(tx.manager, 'BackupStore', name, { lock: true });
    const same = stored !== undefined && isDeepStrictEqual(this.open(stored, 'BackupStore', name), credentials);
    const row = same ? stored : await writeSecret(tx.manager, 'BackupStore', name, this.ready().seal(JSON.stringify(credentials), context), now);
    return { credentials: { set: true, updatedAt: row.updatedAt.toISOString(), version: row.version } };
  }

  /** A store that Backups name cannot go: their snapshots would be unreachable (409 naming them). */
  async refuseDeleteWhileUsed(tx: ResourceTransaction, store: Resource): Promise<void> {
    if (store.kind !== 'BackupStore') return;
    const names = await backupsNamingStore(tx.manager, store.metadata.name, NAMED_BACKUPS + 1);
    if (names.length === 0) return;
    const listed = names.slice(0, NAMED_BACKUPS).join(', ') + (names.length > NAMED_BACKUPS ? ', ...' : '');
    throw conflict('backupstores', store.metadata.name, `backups still use this store: ${listed}; delete them first`);
  }

  private open(sealed: Sealed, kind: KindName, name: string): BackupStoreCredentials {
    const parsed = backupStoreCredentialsSchema.safeParse(JSON.parse(this.ready().open(sealed, contextOf(kind, name))));
    if (!parsed.success) throw new Error(`the stored credentials of ${contextOf(kind, name)} do not match the schema`);
    return parsed.data;
  }

  private ready(): SecretCipher {
    this.cipher ??= new SecretCipher(loadOrCreateSecretsKey(this.config.secretsKeyFile));
    return this.cipher;
  }
}
