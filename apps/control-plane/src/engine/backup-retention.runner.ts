import { Inject, Injectable } from '@nestjs/common';
import { backupsInUse, groupBackups, planBackupGroup, snapshotIds, storesInUse, type BackupForgotten } from '@pressluft/domain';
import { BackgroundLoop, type Logger } from '@pressluft/platform';
import { BackupStoreSecrets } from '../backup-stores/backup-store.secrets.js';
import { Restic } from '../backups/restic.js';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CLOCK, CONFIG, LOGGER, type Clock } from '../infra/tokens.js';
import { ResourceStore } from '../resources/resource.store.js';
import { removeForgottenBackup } from './backup-removal.js';
import type { Runnable } from './controller-registry.js';
import { LeaderElection } from './leader-election.js';

/**
 * Backup retention (spec.backup.retention), applied by the leader every
 * PRESSLUFT_BACKUP_RETENTION_EVERY_MS and promptly after a Backup turned SUCCEEDED: SUCCEEDED
 * Backups are grouped by store and site incarnation, libs/domain decides which to forget, restic
 * forgets their snapshots and prunes (per store), and only then do those Backups go, each with an
 * Event saying why. A store whose restic run fails keeps its Backups until the next pass; a store
 * a backup is running into is left alone until that backup is done.
 */
@Injectable()
export class BackupRetentionRunner implements Runnable {
  private readonly loop: BackgroundLoop;
  private poked = false;

  constructor(
    private readonly store: ResourceStore,
    private readonly leader: LeaderElection,
    private readonly secrets: BackupStoreSecrets,
    private readonly restic: Restic,
    @Inject(CONFIG) config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loop = new BackgroundLoop(async (loop) => {
      while (loop.running) {
        if (!this.poked) await loop.pause(config.backups.retentionEveryMs);
        this.poked = false;
        if (!loop.running) return;
        await this.pass().catch((error: unknown) => this.logger.warn({ err: error }, 'backup retention: the pass failed'));
      }
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Runs a pass now (or right after the one running). */
  poke(): void {
    this.poked = true;
    this.loop.wake();
  }

  /** One pass; the names of the Backups it removed. */
  async pass(): Promise<string[]> {
    const now = this.clock.now();
    const { items } = await this.store.list('Backup');
    const { items: restores } = await this.store.list('Restore');
    const byStore = new Map<string, BackupForgotten[]>();
    const inUse = storesInUse(items, restores);
    const needed = backupsInUse(restores);
    for (const group of groupBackups(items)) {
      // Its next pass (the prompt one when that backup succeeds) takes it.
      if (inUse.has(group.store)) continue;
      const forgotten = planBackupGroup(group, await this.store.get('Site', group.site), now).filter(({ backup }) => !needed.has(backup.metadata.name));
      if (forgotten.length > 0) byStore.set(group.store, [...(byStore.get(group.store) ?? []), ...forgotten]);
    }
    const removed: string[] = [];
    for (const [store, forgotten] of byStore) {
      try {
        const access = await this.secrets.access(store);
        if (!access) throw new Error(`backup store ${store} does not exist or has no credentials`);
        await this.restic.forget(access, forgotten.flatMap(({ backup }) => snapshotIds(backup)));
      } catch (error) {
        this.logger.warn({ err: error, store, backups: forgotten.length }, `backup retention: forgetting in store ${store} failed; its backups stay until the next pass`);
        continue;
      }
      for (const { backup, reasons } of forgotten) {
        const name = backup.metadata.name;
        const message = `backup ${name} (${backup.spec.reason}, taken ${backup.status.snapshotTime ?? '?'}) removed by retention: ${reasons.join(', ')}; its snapshots were forgotten in store ${store}`;
        const gone = await this.leader.transaction(async (tx) => {
          const current = await tx.get('Backup', name, { lock: true });
          if (!current || current.metadata.uid !== backup.metadata.uid) return false;
          await removeForgottenBackup(tx, current, 'BackupForgotten', message, now);
          return true;
        });
        if (gone) removed.push(name);
      }
    }
    if (removed.length > 0) this.logger.info({ removed }, `backup retention: ${removed.length} backups forgotten and removed`);
    return removed;
  }
}
