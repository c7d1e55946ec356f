import { Inject, Injectable } from '@nestjs/common';
import {
  COMMAND_IN_FLIGHT,
  NOT_SERVING,
  UNSCHEDULABLE,
  boundSite,
  nodeView,
  planSite,
  setCondition,
  SITE_FINALIZER,
  siteReady,
  type CommandSpec,
  type CommandStatus,
  type CommandView,
  type ConditionChange,
  type NodeSpec,
  type NodeStatus,
  type NodeView,
  type Resource,
  type SiteAction,
  type SiteObservation,
  type SiteStatus,
  findCondition,
  isDestructive,
  nextScheduledRun,
  preDeleteBackupName,
  cloneBackupName,
  CLONE_FOR_LABEL,
  siteTls,
  siteUrl,
} from '@pressluft/domain';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, CONFIG, type Clock } from '../infra/tokens.js';
import { CommandQueries } from '../resources/command.queries.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { createBackup } from './backup-runs.js';
import { cloneOptions } from './clone-options.js';
import { issueCommand, type Site } from './command.issuer.js';
import { own, watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { faultPoint } from './faults.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';
import { OutboxRelay } from './outbox.relay.js';

export type ReconcileOutcome = 'noop' | 'wrote' | 'issued';
export interface SiteReconcileResult extends ReconcileResult {
  readonly outcome: ReconcileOutcome;
}

/** The results without a requeue, made once (a no-op pass is the hot path). */
const RESULTS: Readonly<Record<ReconcileOutcome, SiteReconcileResult>> = { noop: { outcome: 'noop' }, wrote: { outcome: 'wrote' }, issued: { outcome: 'issued' } };

type Node = Resource<unknown, NodeStatus>;

/** The scheduler's view of a node (its labels and cordon are in the spec the API validated). */
function view(node: Node, sites: readonly Site[] = []): NodeView {
  return nodeView(node as Resource<NodeSpec, NodeStatus>, sites.map((site) => boundSite(site.metadata.name, site.spec)));
}

function commandView(command: Resource<CommandSpec, CommandStatus>): CommandView {
  return {
    name: command.metadata.name,
    operation: command.spec.operation,
    state: command.status.state,
    fence: command.spec.fence,
    generation: command.spec.generation,
    destructive: isDestructive(command.spec.operation),
    ...(command.status.reason ? { reason: command.status.reason } : {}),
    ...(command.status.message ? { message: command.status.message } : {}),
    issuedAt: command.metadata.creationTimestamp,
  };
}

/**
 * Level-triggered Site reconciler: re-reads the site, its newest command and its node, asks the
 * pure planner for the one next step and carries it out in a transaction that re-checks the
 * site's resourceVersion (a concurrent write makes this pass a no-op; the write requeues the key).
 * Woken by the site's changes, its newest command's new state (not its progress, log lines or
 * heartbeats) and changes of the node it is on; requeued for its next scheduled run.
 */
@Injectable()
export class SiteReconciler implements Reconciler {
  readonly kind = 'Site';
  readonly watches = [
    own('Site'),
    // Asked before the informer cache takes the command in: does its change tell the site something?
    watch('Command', ({ object }) => [object.spec.site], ({ type, object }) => this.cache.isNewsForSite(type, object)),
    // Its sites, and the sites waiting to be placed: the change may have made room (an uncordon, a report of capacity).
    watch('Node', ({ object }) => [...this.cache.sitesOn(object.metadata.name), ...this.cache.unscheduled()]),
    // A deleting site waits for its pre-delete backup, a clone for its source's backup.
    watch(
      'Backup',
      ({ object }) => [object.spec.reason === 'clone-source' ? (object.metadata.labels[CLONE_FOR_LABEL] ?? '') : object.spec.site],
      ({ object }) => object.spec.reason === 'pre-delete' || object.spec.reason === 'clone-source',
    ),
  ];

  constructor(
    private readonly store: ResourceStore,
    private readonly commands: CommandQueries,
    private readonly leader: LeaderElection,
    private readonly cache: InformerCache,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly relay: OutboxRelay,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async reconcile(name: string): Promise<SiteReconcileResult> {
    // From the informer cache while this replica leads (the database otherwise, or when the cache
    // has not seen the object): the transaction below re-checks what it planned from.
    const site = this.cache.site(name) ?? (await this.store.get('Site', name));
    if (!site) return RESULTS.noop;
    const outcome = await this.converge(site);
    // Published now rather than at the relay's next poll.
    if (outcome === 'issued') this.relay.poke();
    if (!site.spec.database?.rotation?.schedule) return RESULTS[outcome];
    // A scheduled rotation is looked at again at its next run, not at the next resync.
    const now = this.clock.now();
    const next = nextScheduledRun(site, now);
    return next ? { outcome, requeueAfterMs: next.getTime() - now.getTime() } : RESULTS[outcome];
  }

  private async converge(site: Site): Promise<ReconcileOutcome> {
    const name = site.metadata.name;
    // status.fence is raised in the transaction that issues a command: at 0 this incarnation has none.
    // The cached command must be the one status.fence names (the informer may be between the
    // site's change and its command's); otherwise the database answers.
    const cached = this.cache.latestCommand(name);
    const latest =
      site.status.fence > 0
        ? cached?.spec.fence === site.status.fence
          ? cached
          : await this.commands.latestFor(name, site.metadata.uid)
        : undefined;
    const bound = site.status.nodeName || site.spec.nodeName;
    const node = bound ? (this.cache.node(bound) ?? (await this.store.get('Node', bound))) : undefined;
    // Only binding needs nodes: the one spec.nodeName pins, or every node for the scheduler.
    const nodes = site.status.nodeName ? [] : site.spec.nodeName ? (node ? [view(node)] : []) : await this.schedulable();
    const observation: SiteObservation = {
      site,
      latestCommand: latest ? commandView(latest) : undefined,
      node: node ? view(node) : undefined,
      nodes,
      now: this.clock.now(),
      preDeleteBackup: site.metadata.deletionTimestamp ? await this.preDeleteBackup(site) : undefined,
      ...(site.spec.source && site.status.phase === 'PENDING' && !site.metadata.deletionTimestamp ? await this.cloneSource(site, site.spec.source.clone.site) : {}),
    };
    // Awaited, not returned: a promise returned from an async function costs two more ticks (the no-op pass is hot).
    return await this.apply(observation, planSite(observation), latest);
  }

  /** Only a deleting site looks (one read per pass while it is deleted). */
  private async preDeleteBackup(site: Site): Promise<SiteObservation['preDeleteBackup']> {
    const name = preDeleteBackupName(site.metadata.name, site.metadata.uid);
    const backup = await this.store.get('Backup', name);
    return backup ? { name, phase: backup.status.phase } : undefined;
  }

  /** Only a clone not yet made looks: its source's backup, and whether the source is there to take one. */
  private async cloneSource(site: Site, source: string): Promise<Pick<SiteObservation, 'cloneBackup' | 'cloneSourceExists'>> {
    const name = cloneBackupName(site.metadata.name, site.metadata.uid);
    const backup = await this.store.get('Backup', name);
    if (backup) return { cloneBackup: { name, phase: backup.status.phase } };
    return { cloneSourceExists: (this.cache.site(source) ?? (await this.store.get('Site', source))) !== undefined };
  }

  /** Every node with the sites bound to it. */
  private async schedulable(): Promise<NodeView[]> {
    if (this.cache.ready) {
      const bound = this.cache.sitesByNode();
      return this.cache.allNodes().map((n) => view(n, bound.get(n.metadata.name)));
    }
    const [{ items: nodes }, sites] = await Promise.all([this.store.list('Node'), this.commands.boundSites()]);
    return nodes.map((n) => view(n, sites.filter((site) => site.status.nodeName === n.metadata.name)));
  }

  private async apply(observation: SiteObservation, action: SiteAction, latest: Resource<CommandSpec, CommandStatus> | undefined): Promise<ReconcileOutcome> {
    const observed = observation.site;
    if (action.type === 'none') {
      if (observed.metadata.deletionTimestamp) return 'noop';
      const converged = { reason: 'Converged', message: 'the site matches its spec' };
      const changes: ConditionChange[] = [siteReady(observed.status, { type: 'Ready', status: 'True', ...converged })];
      // A command beside the phase (a backup, a rotation, a drift check) ends without a `complete`: its in-flight mark goes here.
      if (findCondition(observed.status.conditions, 'Reconciling')?.reason === COMMAND_IN_FLIGHT) changes.push({ type: 'Reconciling', status: 'False', ...converged });
      return this.setConditions(observed, changes);
    }
    if (action.type === 'wait') {
      const stalled = action.reason === 'Stalled';
      // Waiting for the site's own command is reconciling; waiting for anything else is blocked.
      const reconciling = action.reason === COMMAND_IN_FLIGHT ? 'True' : 'False';
      const change: ConditionChange = { type: stalled ? 'Stalled' : 'Reconciling', status: stalled ? 'True' : reconciling, reason: action.reason, message: action.message };
      // kube-scheduler's FailedScheduling: once per new verdict, not on every pass that finds the same.
      const event = action.reason === UNSCHEDULABLE ? { reason: 'FailedScheduling', message: action.message } : undefined;
      return this.setConditions(observed, [change], event);
    }
    const now = this.clock.now();
    const outcome = await this.leader.transaction(async (tx): Promise<ReconcileOutcome> => {
      let site: Site | undefined = await tx.get('Site', observed.metadata.name, { lock: true });
      if (!site || site.metadata.resourceVersion !== observed.metadata.resourceVersion) return 'noop';
      // Preparatory steps (finalizer, binding) are followed by the planner's next step in the same
      // transaction: a new site goes from created to "command issued" in one commit, not three,
      // and the site row is written once (by issueCommand, or at the end).
      let dirty = false;
      const writeSite = async (): Promise<void> => {
        if (dirty && site) await tx.update(site, writeOf(site), now);
        dirty = false;
      };
      for (let next: SiteAction = action; ; ) {
        switch (next.type) {
          case 'addFinalizer':
            site = { ...site, metadata: { ...site.metadata, finalizers: [...site.metadata.finalizers, SITE_FINALIZER] } };
            dirty = true;
            break;
          case 'bind':
            site = { ...site, status: { ...site.status, nodeName: next.nodeName } };
            dirty = true;
            await recordEvent(tx, site, 'Normal', 'Scheduled', `bound to node ${next.nodeName}`, now);
            break;
          case 'removeFinalizer': {
            const finalizers = site.metadata.finalizers.filter((f) => f !== SITE_FINALIZER);
            if (site.metadata.deletionTimestamp && finalizers.length === 0) await tx.remove(site, now);
            else await tx.update(site, { ...writeOf(site), finalizers }, now);
            return 'wrote';
          }
          case 'issue': {
            const node = site.status.nodeName || site.spec.nodeName;
            if (!node) {
              await writeSite();
              return 'wrote';
            }
            if (next.operation === 'CloneSite') {
              const started = await this.issueClone(tx, site, node, now);
              if (!started) {
                await writeSite();
                return 'wrote';
              }
              return 'issued';
            }
            await issueCommand(tx, site, node, next.operation, next.phase, now);
            if (next.warning) await recordEvent(tx, site, 'Warning', next.warning.reason, next.warning.message, now);
            return 'issued';
          }
          case 'createBackup': {
            await writeSite();
            if (next.reason === 'clone-source') {
              await this.createCloneBackup(tx, site, now);
              return 'wrote';
            }
            const backup = await createBackup(tx, site, preDeleteBackupName(site.metadata.name, site.metadata.uid), next.reason, {}, now);
            await recordEvent(tx, site, 'Normal', 'PreDeleteBackup', `Site ${site.metadata.name}: Backup ${backup.metadata.name} taken before the deletion`, now);
            return 'wrote';
          }
          case 'complete': {
            const succeeded = next.phase !== 'FAILED';
            let conditions = setCondition(site.status.conditions, { type: 'Reconciling', status: 'False', reason: next.reason, message: next.message }, now);
            // The node's health has a say: an ACTIVE site it finds not serving stays NotServing.
            const ready = siteReady({ ...site.status, phase: next.phase }, { type: 'Ready', status: succeeded ? 'True' : 'False', reason: next.reason, message: next.message });
            conditions = setCondition(conditions, ready, now);
            if (succeeded) conditions = setCondition(conditions, { type: 'Stalled', status: 'False', reason: 'Progressing', message: '' }, now);
            // https once the installed certificate covers the (new) first domain: the certificate reconciler reissues otherwise.
            const url = succeeded ? siteUrl(site.spec.domains, site.status.certificate?.installed, siteTls(site.spec).mode, this.config.certificates.sitesHttpsPort) : undefined;
            const status: SiteStatus = {
              ...site.status,
              phase: next.phase,
              conditions,
              observedGeneration: latest?.spec.generation ?? site.status.observedGeneration,
              ...(url ? { url } : {}),
              ...(succeeded && latest?.spec.operation === 'CloneSite' && site.status.clone ? { clone: { ...site.status.clone, completedAt: now.toISOString() } } : {}),
            };
            await this.writeStatus(tx, site, status, now);
            if (!succeeded) await recordEvent(tx, site, 'Warning', next.reason, next.message, now);
            else if (ready.reason === NOT_SERVING && findCondition(site.status.conditions, 'Ready')?.reason !== NOT_SERVING) await recordEvent(tx, site, 'Warning', NOT_SERVING, ready.message, now);
            return 'wrote';
          }
        }
        const boundName = site.status.nodeName || site.spec.nodeName;
        next = planSite({ ...observation, site, node: observation.node ?? observation.nodes.find((n) => n.name === boundName) });
        // Anything else (a wait, say) is reported by the next pass, which our own write wakes.
        if (next.type !== 'addFinalizer' && next.type !== 'bind' && next.type !== 'issue') {
          await writeSite();
          return 'wrote';
        }
      }
    });
    if (outcome === 'issued') faultPoint('after-command-commit');
    return outcome;
  }

  /** The Backup of the clone's source (labelled with the clone, whose change it wakes). */
  private async createCloneBackup(tx: ResourceTransaction, site: Site, now: Date): Promise<void> {
    const sourceName = site.spec.source?.clone.site ?? '';
    const source = await tx.get('Site', sourceName, { lock: true });
    if (!source) return;
    const backup = await createBackup(tx, source, cloneBackupName(site.metadata.name, site.metadata.uid), 'clone-source', { [CLONE_FOR_LABEL]: site.metadata.name }, now);
    const message = `Site ${site.metadata.name}: Backup ${backup.metadata.name} of site ${sourceName} taken to clone from`;
    await recordEvent(tx, site, 'Normal', 'CloneSourceBackup', message, now);
    await recordEvent(tx, source, 'Normal', 'CloneSourceBackup', message, now);
  }

  /**
   * CloneSite with the source backup's snapshots and store, and the domains the source had when it
   * was taken (rewritten to the clone's); false when the backup is not (or no longer) usable.
   */
  private async issueClone(tx: ResourceTransaction, site: Site, node: string, now: Date): Promise<boolean> {
    const options = await cloneOptions(tx, site);
    if (!options?.backup) return false;
    await issueCommand(tx, { ...site, status: { ...site.status, clone: { backup: options.backup } } }, node, 'CloneSite', 'CLONING', now, options);
    return true;
  }

  private writeStatus(tx: ResourceTransaction, site: Site, status: SiteStatus, now: Date): Promise<Resource> {
    return tx.update(site, { ...writeOf(site), status: status }, now);
  }

  /** Conditions only; no write when they already say this (reconciles must not churn versions). */
  private async setConditions(site: Site, changes: readonly ConditionChange[], warning?: { reason: string; message: string }): Promise<ReconcileOutcome> {
    const news = changes.filter(({ type, status, reason, message }) => {
      const current = findCondition(site.status.conditions, type);
      return !(current && current.status === status && current.reason === reason && current.message === message);
    });
    if (news.length === 0) return 'noop';
    const now = this.clock.now();
    return this.leader.transaction(async (tx) => {
      const fresh = await tx.get('Site', site.metadata.name, { lock: true });
      if (!fresh || fresh.metadata.resourceVersion !== site.metadata.resourceVersion) return 'noop';
      const conditions = news.reduce((all, change) => setCondition(all, change, now), fresh.status.conditions);
      const written = await this.writeStatus(tx, fresh, { ...fresh.status, conditions }, now);
      if (warning) await recordEvent(tx, written, 'Warning', warning.reason, warning.message, now);
      return 'wrote';
    });
  }
}
