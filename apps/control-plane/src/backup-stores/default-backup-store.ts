import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_BACKUP_STORE, validateManifest, validateStatus } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, LOGGER, type Clock } from '../infra/tokens.js';
import { ResourceStore } from '../resources/resource.store.js';
import { BackupStoreSecrets } from './backup-store.secrets.js';

/** Another replica created the store between our look and our insert: its store stands. */
class CreatedElsewhere extends Error {}

/**
 * PRESSLUFT_DEFAULT_BACKUP_REPOSITORY: the BackupStore `local` with that repository and a new
 * random password, created at start when there is none (an existing one is left as it is). The
 * object's lock orders replicas starting at once; the one that loses finds the store there.
 */
@Injectable()
export class DefaultBackupStore {
  constructor(
    private readonly store: ResourceStore,
    private readonly secrets: BackupStoreSecrets,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ensure(repository: string): Promise<void> {
    const name = DEFAULT_BACKUP_STORE;
    const manifest = validateManifest('BackupStore', { apiVersion: 'pressluft.io/v1', kind: 'BackupStore', metadata: { name }, spec: { repository } }, 'Strict');
    const status = validateStatus('BackupStore', {});
    if (!manifest.ok || !status.ok) throw new Error(`the default BackupStore for ${repository} does not validate`);
    const now = this.clock.now();
    try {
      const created = await this.store.transaction(async (tx) => {
        if (await tx.get('BackupStore', name, { lock: true })) return false;
        const credentials = await this.secrets.write(tx, name, { password: randomBytes(32).toString('base64url') }, now);
        const object = await tx.create(
          { kind: 'BackupStore', name, labels: {}, annotations: {}, finalizers: [], spec: manifest.value.spec, status: { ...status.value, ...credentials }, generation: 1 },
          now,
        );
        if (!object) throw new CreatedElsewhere();
        await recordEvent(tx, object, 'Normal', 'Created', `BackupStore ${name} created (generation 1) for ${repository} with a new random password`, now);
        return true;
      });
      if (created) this.logger.info({ store: name, repository }, `BackupStore ${name}: created for ${repository}`);
    } catch (error) {
      if (!(error instanceof CreatedElsewhere)) throw error;
    }
  }
}
