import { Inject, Injectable } from '@nestjs/common';
import {
  BACKUP_FOR_RESTORE_LABEL,
  planRestore,
  preRestoreBackupName,
  restoreTarget,
  setCondition,
  siteSpecSchema,
  validateStatus,
  type ResourceOf,
  type RestoreAction,
  type RestoreStatus,
} from '@pressluft/domain';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { CommandQueries } from '../resources/command.queries.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { createBackup, lockIdleSite, observeRunSite, runCommandOf, WaitingRuns } from './backup-runs.js';
import { restoreOptionsOf } from './clone-options.js';
import { issueCommand } from './command.issuer.js';
import { own, watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';
import { OutboxRelay } from './outbox.relay.js';

type Restore = ResourceOf<'Restore'>;
type Backup = ResourceOf<'Backup'>;

/** A site the restore was to create could not be (its spec or a domain): rolls the transaction back. */
class SiteNotCreated extends Error {}

/**
 * Restore runs (libs/domain planRestore decides): into an existing site, a pre-restore Backup
 * first (unless skipped, with a Warning), then RestoreSite when the site is idle (the site
 * RESTORING, fenced; destructive, so never retried automatically); into a missing site (a
 * deleted one, or a copy under a new name), the site is created from the backup's site spec and
 * restored once ACTIVE. Woken by its Restores, their pre-restore Backups, their RestoreSite
 * commands, and the change of a site a Restore waits for.
 */
@Injectable()
export class RestoreReconciler implements Reconciler {
  readonly kind = 'Restore';
  private readonly waiting = new WaitingRuns();
  readonly watches = [
    own('Restore'),
    watch('Backup', ({ object }) => {
      const restore = object.metadata.labels[BACKUP_FOR_RESTORE_LABEL];
      return restore ? [restore] : [];
    }),
    watch('Command', ({ object }) => (object.spec.restore ? [object.spec.restore] : []), ({ object }) => object.spec.operation === 'RestoreSite'),
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
    const restore = await this.store.get('Restore', name);
    if (!restore || restore.status.phase === 'SUCCEEDED' || restore.status.phase === 'FAILED') {
      this.waiting.set(name, undefined);
      return {};
    }
    const backup = await this.store.get('Backup', restore.spec.backup);
    const target = restoreTarget(restore, backup);
    const pre = await this.store.get('Backup', preRestoreBackupName(name));
    const action = planRestore({
      restore,
      backup,
      site: target ? await observeRunSite(target, this.cache, this.store, this.commands) : undefined,
      preRestoreBackup: pre && pre.metadata.labels[BACKUP_FOR_RESTORE_LABEL] === name ? { name: pre.metadata.name, phase: pre.status.phase } : undefined,
      command: await runCommandOf(this.store, restore.status.command),
    });
    // Until it runs, the target's changes wake it (also when the issue below finds the site busy after all).
    this.waiting.set(name, restore.status.phase === 'PENDING' ? target : undefined);
    if (action.type === 'none') return {};
    if (action.type === 'wait' && restore.status.message === action.message && restore.status.site === target) return {};
    const now = this.clock.now();
    const locked = async (work: (tx: ResourceTransaction, fresh: Restore) => Promise<boolean>): Promise<boolean> =>
      this.leader.transaction(async (tx) => {
        const fresh = await tx.get('Restore', name, { lock: true });
        if (!fresh || fresh.metadata.resourceVersion !== restore.metadata.resourceVersion) return false;
        return work(tx, fresh);
      });
    let issued: boolean;
    try {
      issued = await locked((tx, fresh) => this.apply(tx, fresh, backup, target, action, now));
    } catch (error) {
      if (!(error instanceof SiteNotCreated)) throw error;
      issued = await locked((tx, fresh) => this.apply(tx, fresh, backup, target, { type: 'fail', reason: 'SiteNotCreated', message: error.message }, now));
    }
    if (issued) this.relay.poke();
    return {};
  }

  /** Carries out the action on the locked Restore; true when a command was issued. */
  private async apply(tx: ResourceTransaction, restore: Restore, backup: Backup | undefined, target: string | undefined, action: Exclude<RestoreAction, { type: 'none' }>, now: Date): Promise<boolean> {
    const name = restore.metadata.name;
    const at = now.toISOString();
    const base: RestoreStatus = { ...restore.status, ...(target ? { site: target } : {}) };
    const write = (status: RestoreStatus): Promise<Restore> => tx.update(restore, { ...writeOf(restore), status: { ...status, observedGeneration: restore.metadata.generation } }, now);
    switch (action.type) {
      case 'wait':
        await write({ ...base, message: action.message });
        return false;
      case 'createPreRestoreBackup': {
        const site = await tx.get('Site', action.site, { lock: true });
        if (!site) return false;
        const pre = await createBackup(tx, site, preRestoreBackupName(name), 'pre-restore', { [BACKUP_FOR_RESTORE_LABEL]: name }, now);
        const updated = await write({ ...base, preRestoreBackup: pre.metadata.name, message: `Restore ${name}: waiting for the pre-restore backup ${pre.metadata.name}` });
        await recordEvent(tx, updated, 'Normal', 'PreRestoreBackup', `Restore ${name}: Backup ${pre.metadata.name} of site ${site.metadata.name} taken before the restore`, now);
        return false;
      }
      case 'createSite': {
        if (!backup) return false;
        await this.createSite(tx, restore, backup, action.site, now);
        const updated = await write({ ...base, createdSite: true, message: `Restore ${name}: site ${action.site} created; waiting for it to be ACTIVE` });
        await recordEvent(tx, updated, 'Normal', 'SiteCreated', `Restore ${name}: site ${action.site} created from Backup ${backup.metadata.name}`, now);
        return false;
      }
      case 'issue': {
        const options = restoreOptionsOf(backup);
        if (!backup || !options) return false;
        const locked = await lockIdleSite(tx, action.site, ['ACTIVE']);
        if ('why' in locked) return false;
        const { site, node } = locked;
        const command = await issueCommand(tx, site, node, 'RestoreSite', 'RESTORING', now, { ...options, restore: name, ...(restore.spec.parts ? { parts: restore.spec.parts } : {}) });
        const { message: _message, ...status } = base;
        const started = await write({ ...status, phase: 'RUNNING', command: command.metadata.name, startedAt: at });
        await recordEvent(tx, started, 'Normal', 'Started', `Restore ${name}: ${command.metadata.name} (RestoreSite of Backup ${backup.metadata.name}) issued to node ${node}`, now);
        if (action.skippedPreRestoreBackup) {
          const why = `Restore ${name}: site ${site.metadata.name} restored without a pre-restore backup (spec.skipPreRestoreBackup)`;
          await recordEvent(tx, started, 'Warning', 'PreRestoreBackupSkipped', why, now);
          await recordEvent(tx, site, 'Warning', 'PreRestoreBackupSkipped', why, now);
        }
        return true;
      }
      case 'succeed': {
        const site = target ? await tx.get('Site', target) : undefined;
        const release = site?.status.currentRelease;
        const message = `Restore ${name}: site ${target ?? ''} serves Backup ${restore.spec.backup}${release ? ` (release ${release})` : ''}`;
        const { message: _message, ...status } = base;
        const done = await write({
          ...status,
          phase: 'SUCCEEDED',
          completedAt: at,
          ...(release ? { release } : {}),
          conditions: setCondition(status.conditions, { type: 'Succeeded', status: 'True', reason: 'Restored', message }, now),
        });
        await recordEvent(tx, done, 'Normal', 'Restored', message, now);
        if (site) await recordEvent(tx, site, 'Normal', 'Restored', message, now);
        return false;
      }
      case 'fail': {
        const done = await write({
          ...base,
          phase: 'FAILED',
          completedAt: at,
          message: action.message.slice(0, 1024),
          conditions: setCondition(base.conditions, { type: 'Succeeded', status: 'False', reason: action.reason, message: action.message }, now),
        });
        await recordEvent(tx, done, 'Warning', action.reason, action.message, now);
        const site = target ? await tx.get('Site', target) : undefined;
        if (site) await recordEvent(tx, site, 'Warning', action.reason, action.message, now);
        return false;
      }
    }
  }

  /**
   * The target from the backup's site spec: the Restore's domains when given, the pinned node
   * only when it still exists (otherwise the scheduler places it), no clone source, the
   * pre-delete backup not skipped. Domains are
   * claimed like an API create does; a taken one fails the Restore.
   */
  private async createSite(tx: ResourceTransaction, restore: Restore, backup: Backup, name: string, now: Date): Promise<void> {
    const { nodeName, source: _source, backup: policy, ...recorded } = backup.status.siteSpec ?? {};
    const keepNode = typeof nodeName === 'string' && (await tx.get('Node', nodeName)) !== undefined;
    const parsed = siteSpecSchema.safeParse({
      ...recorded,
      ...(restore.spec.domains ? { domains: restore.spec.domains } : {}),
      ...(keepNode ? { nodeName } : {}),
      // Skipping the pre-delete backup was a choice about the old site's deletion, not this one's.
      ...(policy && typeof policy === 'object' ? { backup: { ...policy, skipPreDeleteBackup: false } } : {}),
    });
    if (!parsed.success) throw new SiteNotCreated(`Restore ${restore.metadata.name}: the site spec recorded in Backup ${backup.metadata.name} is not valid now: ${parsed.error.issues[0]?.message ?? ''}`);
    const taken = await tx.claimDomains(name, parsed.data.domains, []);
    if (taken) throw new SiteNotCreated(`Restore ${restore.metadata.name}: domain ${taken.domain} is already used by site ${taken.holder}; give the restore its own spec.domains`);
    const status = validateStatus('Site', {});
    if (!status.ok) throw new Error('the Site status schema has no valid empty default');
    const site = await tx.create({ kind: 'Site', name, labels: {}, annotations: {}, finalizers: [], spec: parsed.data, status: status.value, generation: 1 }, now);
    if (!site) throw new SiteNotCreated(`Restore ${restore.metadata.name}: site ${name} was created meanwhile`);
    await recordEvent(tx, site, 'Normal', 'Created', `Site ${name} created by Restore ${restore.metadata.name} from Backup ${backup.metadata.name} (generation 1)`, now);
  }
}
