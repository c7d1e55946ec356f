import { Injectable } from '@nestjs/common';
import type { BackupStoreCredentials, KindName, ManifestInput, Resource, SiteCredentials, SiteSpec } from '@pressluft/domain';
import { BackupStoreSecrets } from '../backup-stores/backup-store.secrets.js';
import type { ResourceTransaction } from '../resources/resource-transaction.js';
import { SiteSecrets } from './site.secrets.js';
import type { GivenCredentials } from './write-only-credentials.js';

/**
 * The one step of an API write that stores what takeCredentials took out, by kind (BackupStore:
 * replaced as a whole; Site: merged by field), in the write's transaction. Answers the
 * status.credentials the object carries (undefined: unchanged).
 */
@Injectable()
export class WriteOnlySecrets {
  constructor(
    private readonly stores: BackupStoreSecrets,
    private readonly sites: SiteSecrets,
  ) {}

  write(tx: ResourceTransaction, kind: KindName, input: ManifestInput, credentials: GivenCredentials, current: Resource | undefined, now: Date): Promise<Record<string, unknown> | undefined> {
    if (kind === 'BackupStore') return this.stores.write(tx, input.name, credentials as BackupStoreCredentials | undefined, now);
    if (kind === 'Site') return this.sites.write(tx, input.name, credentials as SiteCredentials | undefined, current, input.spec as SiteSpec, now);
    return Promise.resolve(undefined);
  }

  /** A delete's check: a BackupStore that Backups still name stays (409). */
  refuseDeleteWhileUsed(tx: ResourceTransaction, object: Resource): Promise<void> {
    return this.stores.refuseDeleteWhileUsed(tx, object);
  }
}
