import { Injectable } from '@nestjs/common';

/** A BackupStore's repository with its decrypted credentials: only in memory, only for one use. */
export interface StoreAccess {
  readonly repository: string;
  readonly password: string;
  readonly sshPrivateKey?: string;
  readonly sshKnownHosts?: string;
  readonly restUsername?: string;
  readonly restPassword?: string;
}

/**
 * The one place a BackupStore's credentials are decrypted (issue 17: being built). Used by the
 * gRPC NodeService (for an agent's in-flight command) and by the retention runner (restic forget).
 */
@Injectable()
export class BackupStoreSecrets {
  /** The store's repository and credentials; undefined when the store does not exist or has none. */
  access(store: string): Promise<StoreAccess | undefined> {
    return Promise.reject(new Error(`backup store ${store}: credentials are not readable yet`));
  }
}
