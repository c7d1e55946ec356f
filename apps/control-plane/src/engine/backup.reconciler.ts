import { Inject, Injectable } from '@nestjs/common';
import {
  BACKUP_SITE_LABEL,
  BACKUP_SITE_UID_LABEL,
  DEFAULT_BACKUP_STORE,
  planBackup,
  setCondition,
  type BackupAction,
  type BackupStatus,
  type ResourceOf,
} from '@pressluft/domain';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { CommandQueries } from '../resources/command.queries.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { lockIdleSite, observeRunSite, runCommandOf, WaitingRuns } from './backup-runs.js';
import { issueCommand, type Site } from './command.issuer.js';
import { own, watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';
import { OutboxRelay } from './outbox.relay.js';
import { siteShortId } from './site-config.js';

type Backup = ResourceOf<'Backup'>;

/**
 * Backup runs (libs/domain planBackup decides): a PENDING Backup of an idle site gets BackupSite
 * beside the site's phase, in one fenced transaction that locks the site row (so it cannot race
 * the Site reconciler) and sets the Backup RUNNING; the command's progress is mirrored while it
 * runs and its result copied when it ends. Woken by its Backups, their BackupSite commands, and
 * the change of a site a Backup waits for.
 */
@Injectable()
export class BackupReconciler implements Reconciler {
  readonly kind = 'Backup';
  private readonly waiting = new WaitingRuns();
  readonly watches = [
    own('Backup'),
    watch('Command', ({ object }) => (object.spec.backup ? [object.spec.backup] : []), ({ object }) => object.spec.operation === 'BackupSite'),
    watch('Site', ({ object }) => this.waiting.of(object.metadata.name)),
  ];

  constructor(
    private readonly store: ResourceStore,
    private readonly commands: CommandQueries,
    private readonly leader: LeaderElection,
    private readonly cache: InformerCache,
    private readonly relay: OutboxRelay,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const backup = await this.store.get('Backup', name);
    if (!backup || backup.status.phase === 'SUCCEEDED' || backup.status.phase === 'FAILED') {
      this.waiting.set(name, undefined);
      return {};
    }
    const action = planBackup({ backup, site: await observeRunSite(backup.spec.site, this.cache, this.store, this.commands), command: await runCommandOf(this.store, backup.status.command) });
    // Until it runs, the site's changes wake it (also when the start below finds the site busy after all).
    this.waiting.set(name, backup.status.phase === 'PENDING' ? backup.spec.site : undefined);
    if (action.type === 'none') return {};
    if (action.type === 'wait' && backup.status.message === action.message) return {};
    const issued = await this.leader.transaction(async (tx) => {
      const fresh = await tx.get('Backup', name, { lock: true });
      if (!fresh || fresh.metadata.resourceVersion !== backup.metadata.resourceVersion) return false;
      return this.apply(tx, fresh, action, this.clock.now());
    });
    if (issued) this.relay.poke();
    return {};
  }

  /** Carries out the action on the locked Backup; true when a command was issued. */
  private async apply(tx: ResourceTransaction, backup: Backup, action: Exclude<BackupAction, { type: 'none' }>, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const write = (status: BackupStatus, labels = backup.metadata.labels): Promise<Backup> =>
      tx.update(backup, { ...writeOf(backup), labels, status: { ...status, observedGeneration: backup.metadata.generation } }, now);
    switch (action.type) {
      case 'wait':
        await write({ ...backup.status, message: action.message });
        return false;
      case 'progress':
        await write({ ...backup.status, progress: action.progress });
        return false;
      case 'start': {
        const locked = await lockIdleSite(tx, backup.spec.site, ['ACTIVE', 'FAILED']);
        // The site changed since the plan: the change wakes this Backup again.
        if ('why' in locked) return false;
        const { site, node } = locked;
        const store = backup.spec.store ?? site.spec.backup?.store ?? DEFAULT_BACKUP_STORE;
        const command = await issueCommand(tx, site, node, 'BackupSite', site.status.phase, now, { backup: backup.metadata.name, store });
        const { message: _message, ...status } = backup.status;
        const started = await write(
          {
            ...status,
            phase: 'RUNNING',
            command: command.metadata.name,
            store,
            siteUid: site.metadata.uid,
            siteId: siteShortId(site.metadata.uid),
            siteSpec: site.spec,
            startedAt: at,
          },
          { ...backup.metadata.labels, [BACKUP_SITE_LABEL]: site.metadata.name, [BACKUP_SITE_UID_LABEL]: site.metadata.uid },
        );
        await recordEvent(tx, started, 'Normal', 'Started', `Backup ${backup.metadata.name}: ${command.metadata.name} (BackupSite) issued to node ${node}, store ${store}`, now);
        return true;
      }
      case 'succeed': {
        const { progress: _progress, message: _message, ...status } = backup.status;
        const done = await write({
          ...status,
          ...action.result,
          phase: 'SUCCEEDED',
          completedAt: at,
          conditions: setCondition(status.conditions, { type: 'Succeeded', status: 'True', reason: 'BackedUp', message: 'the snapshots are stored' }, now),
        });
        const what = `Backup ${backup.metadata.name} succeeded: ${action.result.bytesAdded} bytes added (${action.result.bytesTotal} in total), ${action.result.files} files`;
        await this.recordBoth(tx, done, 'Normal', 'BackedUp', what, now);
        return false;
      }
      case 'fail': {
        const { progress: _progress, ...status } = backup.status;
        const started = status.startedAt ? Date.parse(status.startedAt) : undefined;
        const done = await write({
          ...status,
          phase: 'FAILED',
          completedAt: at,
          message: action.message.slice(0, 1024),
          ...(started !== undefined ? { durationSeconds: Math.max(0, (now.getTime() - started) / 1000) } : {}),
          conditions: setCondition(status.conditions, { type: 'Succeeded', status: 'False', reason: action.reason, message: action.message }, now),
        });
        await this.recordBoth(tx, done, 'Warning', action.reason, action.message, now);
        return false;
      }
    }
  }

  /** An Event on the Backup and one on its site (the same incarnation only). */
  private async recordBoth(tx: ResourceTransaction, backup: Backup, type: 'Normal' | 'Warning', reason: string, message: string, now: Date): Promise<void> {
    await recordEvent(tx, backup, type, reason, message, now);
    const site: Site | undefined = await tx.get('Site', backup.spec.site);
    if (site && (!backup.status.siteUid || site.metadata.uid === backup.status.siteUid)) await recordEvent(tx, site, type, reason, message, now);
  }
}
