import { Injectable } from '@nestjs/common';
import { backupStoreCredentialsSchema, type BackupStoreCredentials, type BackupStoreStatus, type Resource } from '@pressluft/domain';
import { DataSource } from 'typeorm';
import { conflict } from '../common/errors.js';
import type { ResourceTransaction } from '../resources/resource-transaction.js';
import { ResourceSecrets } from '../secrets/resource-secrets.js';
import { backupsNamingStore, readStoreWithSecret } from './backup-store.repository.js';

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

/**
 * A BackupStore's write-only credentials (ResourceSecrets): a write's credentials replace the
 * stored ones as a whole. Read by the gRPC NodeService (for an agent's in-flight command) and by
 * the retention runner (restic forget).
 */
@Injectable()
export class BackupStoreSecrets {
  constructor(
    private readonly secrets: ResourceSecrets,
    private readonly dataSource: DataSource,
  ) {}

  /** The store's repository and credentials; undefined when the store does not exist or has none. */
  async access(store: string): Promise<StoreAccess | undefined> {
    const found = await readStoreWithSecret(this.dataSource.manager, store);
    if (!found?.secret) return undefined;
    return { repository: found.repository, ...this.secrets.open(found.secret, 'BackupStore', store, backupStoreCredentialsSchema) };
  }

  /**
   * Inside the store's write: stores `credentials` when they differ from the stored ones (a new
   * version), and answers the status.credentials the object carries. Undefined without
   * credentials (the stored stay).
   */
  async write(tx: ResourceTransaction, name: string, credentials: BackupStoreCredentials | undefined, now: Date): Promise<Partial<BackupStoreStatus> | undefined> {
    if (!credentials) return undefined;
    const stored = await this.secrets.update(tx, 'BackupStore', name, backupStoreCredentialsSchema, now, () => credentials);
    if (!stored) throw new Error(`the credentials of backup store ${name} were not stored`);
    return { credentials: { set: true, updatedAt: stored.row.updatedAt.toISOString(), version: stored.row.version } };
  }

  /** A store that Backups name cannot go: their snapshots would be unreachable (409 naming them). */
  async refuseDeleteWhileUsed(tx: ResourceTransaction, store: Resource): Promise<void> {
    if (store.kind !== 'BackupStore') return;
    const names = await backupsNamingStore(tx.manager, store.metadata.name, NAMED_BACKUPS + 1);
    if (names.length === 0) return;
    const listed = names.slice(0, NAMED_BACKUPS).join(', ') + (names.length > NAMED_BACKUPS ? ', ...' : '');
    throw conflict('backupstores', store.metadata.name, `backups still use this store: ${listed}; delete them first`);
  }
}
