import { type CommandOperation, type CommandState } from '../command.js';
import { findCondition } from '../conditions.js';
import { lastCronRun, nextCronRun } from '../cron.js';
import type { RunPhase } from '../backup.js';
import { type Resource } from '../resource.js';
import { canTransition, type SitePhase } from '../site-lifecycle.js';
import { type SiteSpec, type SiteStatus } from '../site.js';
import { OPERATION_PHASE, OPERATION_REASONS, isDestructive, isInFlight } from './operations.js';
import { pickNode, placementRequest, type NodeView } from './pick-node.js';
import { derivedName } from '../derived-names.js';

/** Held by every live site so its row outlives a DELETE until the node has cleaned up. */
export const SITE_FINALIZER = 'pressluft.io/site-cleanup';

/** A command as the planner needs it. `generation` is the site's metadata.generation when it was issued. */
export interface CommandView {
  name: string;
  operation: CommandOperation;
  state: CommandState;
  fence: number;
  generation: number;
  destructive: boolean;
  /** Why it failed, as the node said (CamelCase, e.g. HealthCheckFailed) and its message. */
  reason?: string;
  message?: string;
  /** When it was issued (its creationTimestamp). */
  issuedAt?: string;
}

export interface SiteObservation {
  /** Desired (spec, metadata.generation, deletionTimestamp, finalizers) and status. */
  site: Resource<SiteSpec, SiteStatus>;
  /** The site's newest command (highest fence). */
  latestCommand: CommandView | undefined;
  /** The node named by status.nodeName ?? spec.nodeName, if it exists. */
  node: NodeView | undefined;
  /** All nodes, for scheduling. */
  nodes: readonly NodeView[];
  /** The reconcile's clock, for schedules (database credential rotation); without it nothing is scheduled. */
  now?: Date;
  /** A deleting site: its pre-delete Backup (preDeleteBackupName), if it exists. */
  preDeleteBackup?: { name: string; phase: RunPhase } | undefined;
  /** A clone not yet made (spec.source.clone, PENDING): the Backup of its source (cloneBackupName), if it exists. */
  cloneBackup?: { name: string; phase: RunPhase } | undefined;
  /** A clone not yet made: whether its source site exists (false: it was deleted before its backup was taken). */
  cloneSourceExists?: boolean;
}

/** The pre-delete Backup of a site incarnation: one per uid, so a site re-created under the name gets its own. */
export function preDeleteBackupName(site: string, uid: string): string {
  return derivedName(site, `pre-delete-${uid.replace(/-/g, '').slice(0, 8)}`);
}

/** The Backup of a clone's source it is made from: one per clone incarnation (the clone's uid). */
export function cloneBackupName(site: string, uid: string): string {
  return derivedName(site, `clone-${uid.replace(/-/g, '').slice(0, 8)}`);
}

/**
 * The one next step for a site. Executing it is the reconciler's job:
 * - `issue`: in one transaction, phase -> `phase`, status.fence++, a command row with that fence
 *   and generation = metadata.generation, an outbox row.
 * - `complete`: phase -> `phase` and status.observedGeneration = latestCommand.generation (the
 *   generation the finished command applied, success or not).
 * - `wait`: nothing to write but conditions/events; the reconciler runs again on the next change
 *   (command event, node heartbeat, spec write) or resync.
 */
export type SiteAction =
  | { type: 'none' }
  | { type: 'addFinalizer' }
  | { type: 'bind'; nodeName: string }
  | { type: 'wait'; reason: string; message: string }
  | { type: 'issue'; operation: CommandOperation; phase: SitePhase; destructive: boolean; warning?: { reason: string; message: string } }
  | { type: 'createBackup'; reason: 'pre-delete' | 'clone-source' }
  | { type: 'complete'; phase: SitePhase; reason: string; message: string }
  | { type: 'removeFinalizer' };

type Wait = Extract<SiteAction, { type: 'wait' }>;

const NONE: SiteAction = { type: 'none' };

/**
 * plan(desired, observed) -> next action for a Site. Pure and level-triggered: it looks at the
 * whole observation every time and never remembers anything between calls, so running it twice
 * on the same world gives the same answer and a missed event costs nothing but latency.
 *
 * Order of concerns (each returns as soon as it has an answer):
 * 1. deletion (finalizer handling), 2. our finalizer on live sites, 3. a consistent view of the
 * newest command (fence), 4. one command in flight per site, 5. reflect a finished command in
 * the phase, 6. binding to a node, 7. node health, 8. the phase machine (provision, deploy,
 * retry after failure).
 */
/** The wait of a site no node can take (Reconciling=False; the message says why, per node, in aggregate). */
export const UNSCHEDULABLE = 'Unschedulable';

/** The wait while a site's command runs: Reconciling=True with this reason. */
export const COMMAND_IN_FLIGHT = 'CommandInFlight';

/**
 * The Reconciling message while a command is in flight. Set when the command is issued and kept
 * until it finishes: it names no state, so the command's progress does not rewrite the site.
 */
export function inFlightMessage(site: string, operation: string, command: string, fence: number): string {
  return `Site ${site}: waiting for ${operation} (${command}, fence ${fence})`;
}

export function planSite(observed: SiteObservation): SiteAction {
  const { metadata } = observed.site;
  const hasFinalizer = metadata.finalizers.includes(SITE_FINALIZER);
  if (metadata.deletionTimestamp !== undefined) {
    // Without our finalizer the API deletes the row itself; there is nothing left for us to do.
    return hasFinalizer ? planDeletion(observed) : NONE;
  }
  // First, before any side effect on a node: otherwise a DELETE could drop the row while the
  // node still holds the site's user, pool, database and files, and nobody would clean them up.
  if (!hasFinalizer) return { type: 'addFinalizer' };
  return planLive(observed);
}

function planDeletion(observed: SiteObservation): SiteAction {
  const { site, latestCommand: latest } = observed;
  const name = site.metadata.name;

  // Nothing was ever sent to a node (no command, fence never moved): nothing to clean up there.
  if (latest === undefined && site.status.fence === 0) return { type: 'removeFinalizer' };

  const gate = fenceGate(observed) ?? commandGate(observed);
  if (gate) return gate;

  if (latest?.operation === 'DeleteSite') {
    if (latest.state === 'SUCCEEDED') return { type: 'removeFinalizer' };
    // Destructive: a half-done deletion is never repeated on our own (STALLED is caught by commandGate).
    return wait(
      'DeleteFailed',
      `Site ${name}: DeleteSite (fence ${latest.fence}) ${latest.state === 'REJECTED' ? 'was rejected by the node' : 'failed'}; ` +
        'deletion is destructive and never retried automatically: an operator must retry it or abandon it (remove the finalizer)',
    );
  }

  // A finished deploy/clone/restore must land in ACTIVE or FAILED first: DELETING can only follow those.
  const reflected = reflectFinished(observed);
  if (reflected) return reflected;

  const phase = site.status.phase;
  if (!canTransition(phase, 'DELETING')) {
    return wait('PhaseCommandMismatch', `Site ${name}: phase ${phase} without a DeleteSite command to match; an operator must investigate`);
  }

  const health = nodeHealth(observed, 'abandon the deletion (remove the finalizer) if the node is gone for good');
  if (health) return health;
  return preDeleteBackup(observed) ?? issue('DeleteSite');
}

/**
 * The mandatory backup before a deletion: DeleteSite goes out only once the site's pre-delete
 * Backup SUCCEEDED. A failed one blocks the deletion (nothing was deleted) until someone deletes
 * that Backup (a new one is taken) or sets spec.backup.skipPreDeleteBackup, which deletes with
 * a Warning (the audit log says who set it).
 */
function preDeleteBackup(observed: SiteObservation): SiteAction | undefined {
  const { site, preDeleteBackup: backup } = observed;
  const name = site.metadata.name;
  if (site.spec.backup?.skipPreDeleteBackup) {
    return { ...issue('DeleteSite'), warning: { reason: 'PreDeleteBackupSkipped', message: `Site ${name}: deleted without a pre-delete backup (spec.backup.skipPreDeleteBackup)` } };
  }
  if (!backup) return { type: 'createBackup', reason: 'pre-delete' };
  switch (backup.phase) {
    case 'SUCCEEDED':
      return undefined;
    case 'PENDING':
    case 'RUNNING':
      return wait('BackingUp', `Site ${name}: waiting for the pre-delete backup ${backup.name} (${backup.phase}) before deleting`);
    case 'FAILED':
      return wait(
        'PreDeleteBackupFailed',
        `Site ${name}: the pre-delete backup ${backup.name} FAILED; nothing was deleted. Delete Backup ${backup.name} to try again, ` +
          'or set spec.backup.skipPreDeleteBackup to delete without a backup',
      );
  }
}

/**
 * A clone is made from a Backup of its source (the medium on this node or any other; the source
 * is only read): the Backup first, then one CloneSite (provision, then restore with the URLs
 * rewritten). A failed source backup blocks the clone until someone deletes that Backup (a new
 * one is taken); nothing was made on a node yet.
 */
function planClone(observed: SiteObservation, source: string): SiteAction {
  const { cloneBackup: backup } = observed;
  const name = observed.site.metadata.name;
  if (!backup) {
    return observed.cloneSourceExists === false
      ? wait('CloneSourceNotFound', `Site ${name}: the site ${source} to clone from does not exist (any more); delete this site and create it again from another source`)
      : { type: 'createBackup', reason: 'clone-source' };
  }
  switch (backup.phase) {
    case 'SUCCEEDED':
      return issue('CloneSite');
    case 'PENDING':
    case 'RUNNING':
      return wait('BackingUpSource', `Site ${name}: waiting for the backup ${backup.name} of site ${source} (${backup.phase}) to clone from`);
    case 'FAILED':
      return wait('CloneSourceBackupFailed', `Site ${name}: the backup ${backup.name} of site ${source} FAILED; nothing was made. Delete Backup ${backup.name} to try again`);
  }
}

function planLive(observed: SiteObservation): SiteAction {
  const { site, latestCommand: latest } = observed;
  const { metadata, spec, status } = site;
  const name = metadata.name;

  const gate = fenceGate(observed) ?? commandGate(observed) ?? reflectFinished(observed);
  if (gate) return gate;

  if (status.phase === 'DELETING') {
    // Only a deletion (deletionTimestamp set) issues DeleteSite; a live site here is an inconsistency.
    return wait('PhaseCommandMismatch', `Site ${name}: phase DELETING but no deletion was requested; an operator must investigate`);
  }

  // Binding. status.nodeName is written once: a site's data lives on its node and moving it is a
  // migration, not a reschedule. A later edit of spec.nodeName is therefore not followed here (the
  // API should refuse it once bound).
  if (!status.nodeName) {
    if (spec.nodeName) {
      const pinned = observed.nodes.find((node) => node.name === spec.nodeName);
      return pinned
        ? { type: 'bind', nodeName: pinned.name }
        : wait('NodeNotFound', `Site ${name}: spec.nodeName ${spec.nodeName} names no node`);
    }
    const placement = pickNode(placementRequest(name, spec), observed.nodes);
    return placement.node ? { type: 'bind', nodeName: placement.node.name } : wait(UNSCHEDULABLE, `Site ${name}: ${placement.message}`);
  }

  // Only for bound sites: a cordoned (unschedulable) node keeps serving and updating its sites.
  const health = nodeHealth(observed, 'the site is converged again once the node is back');
  if (health) return health;

  const phase = status.phase;
  switch (phase) {
    case 'PENDING':
      return spec.source ? planClone(observed, spec.source.clone.site) : issue('ProvisionSite');
    case 'ACTIVE':
      // Spec changes queue up by generation: whatever arrived while a command ran is picked up
      // here, once the site is back to ACTIVE, as one deploy of the newest spec.
      if (metadata.generation > status.observedGeneration) return issue('DeploySite');
      if (remediationDue(observed)) return issue('RemediateDrift');
      return rotationDue(observed) ? issue('RotateCredentials', 'ACTIVE') : NONE;
    case 'FAILED':
      return retryFailed(observed);
    case 'PROVISIONING':
    case 'DEPLOYING':
    case 'CLONING':
    case 'RESTORING':
      // Unreachable: reflectFinished has turned these into ACTIVE/FAILED or waited.
      return wait('PhaseCommandMismatch', `Site ${name}: phase ${phase} with command ${latest?.name ?? '(none)'}; an operator must investigate`);
  }
}

/**
 * Drift is put back by the control plane, through the normal fenced path: with spec.drift.policy
 * Remediate, a site whose Drifted condition is True gets a converge of its current spec. The
 * converge's result clears the condition (its fingerprints become what is expected), so this
 * fires once per finding, and a failed converge leaves the site FAILED rather than retrying.
 */
export function remediationDue(observed: SiteObservation): boolean {
  const { spec, status } = observed.site;
  return spec.drift.policy === 'Remediate' && findCondition(status.conditions, 'Drifted')?.status === 'True';
}

/**
 * A scheduled database credential rotation is due when the schedule's newest run (UTC, at or
 * before now) is later than the last rotation (or, never rotated, than the site's creation) and
 * than the last rotation tried: each run is tried once, so a rotation that fails (or that the
 * node gives up on as a PoisonCommand) is not issued again and again until the next run.
 */
export function rotationDue(observed: SiteObservation): boolean {
  const schedule = observed.site.spec.database?.rotation?.schedule;
  if (!schedule || !observed.now) return false;
  const latest = observed.latestCommand;
  const tried = latest?.operation === 'RotateCredentials' && latest.issuedAt !== undefined ? Date.parse(latest.issuedAt) : -Infinity;
  const last = Math.max(Date.parse(observed.site.status.credentialsRotatedAt ?? observed.site.metadata.creationTimestamp), tried);
  const run = lastCronRun(schedule, observed.now);
  return run !== undefined && run.getTime() > last;
}

/**
 * When a pass has work to do although nothing changes: the next run of the site's rotation
 * schedule (undefined: nothing scheduled). The reconciler requeues the site for then, so a
 * scheduled run fires on time rather than at the next resync.
 */
export function nextScheduledRun(site: Pick<Resource<SiteSpec, SiteStatus>, 'spec'>, now: Date): Date | undefined {
  const schedule = site.spec.database?.rotation?.schedule;
  return schedule ? nextCronRun(schedule, now) : undefined;
}

/**
 * Failure policy. A failed site is retried only when the user changed the spec since the failed
 * command was issued (metadata.generation > command.generation): retrying the same spec that just
 * failed would hot-loop (fail, retry, fail...) and flood the node and the event log, and a failure
 * of an idempotent step on an unchanged spec usually needs a human (or a new spec) anyway. The
 * retry reuses the operation that can converge from here: provisioning again if the site never got
 * past it, else a deploy of the newest spec. Destructive operations (restore, clone, delete) are
 * never retried, not even for a new spec: their half-done state needs an operator's decision.
 */
function retryFailed(observed: SiteObservation): SiteAction {
  const { site, latestCommand: last } = observed;
  const { metadata, status } = site;
  const name = metadata.name;
  if (last && last.state !== 'SUCCEEDED' && isDestructive(last.operation)) {
    return wait(
      OPERATION_REASONS[last.operation].failed,
      `Site ${name}: ${last.operation} (fence ${last.fence}) failed; it is destructive and never retried automatically: ` +
        'an operator must retry it or abandon it',
    );
  }
  // The generation the failure is about: the failed command's, or (no phase-changing command to
  // look at, e.g. the newest command is a backup) the one status last reflected.
  const failedAt = last && OPERATION_PHASE[last.operation] !== undefined ? last.generation : status.observedGeneration;
  if (metadata.generation > failedAt) {
    return issue(last === undefined || last.operation === 'ProvisionSite' ? 'ProvisionSite' : 'DeploySite');
  }
  const what = last ? `${last.operation} (fence ${last.fence})` : 'the site';
  return wait(
    'Failed',
    `Site ${name}: ${what} failed for generation ${failedAt}; change the spec to retry, or retry from the console`,
  );
}

/**
 * The newest command must be the one status.fence points at. Reads of the site and of its
 * commands can be out of step (a command issued between the two reads); acting on an older
 * command than the site's phase belongs to would, e.g., complete a running rollback with the
 * previous deploy's result. So we wait for a consistent view instead.
 */
function fenceGate(observed: SiteObservation): Wait | undefined {
  const { site, latestCommand: latest } = observed;
  const name = site.metadata.name;
  const fence = site.status.fence;
  if (latest === undefined) {
    return fence > 0
      ? wait('CommandNotFound', `Site ${name}: status.fence is ${fence} but no command is visible; waiting for a consistent read`)
      : undefined;
  }
  if (latest.fence !== fence) {
    return wait(
      'StaleObservation',
      `Site ${name}: newest visible command ${latest.name} has fence ${latest.fence} but status.fence is ${fence}; waiting for a consistent read`,
    );
  }
  return undefined;
}

/** One command per site at a time; a stalled one blocks until an operator retries or abandons it. */
function commandGate(observed: SiteObservation): Wait | undefined {
  const { site, latestCommand: latest } = observed;
  if (latest === undefined) return undefined;
  const name = site.metadata.name;
  if (isInFlight(latest.state)) {
    return wait(COMMAND_IN_FLIGHT, inFlightMessage(name, latest.operation, latest.name, latest.fence));
  }
  if (latest.state === 'STALLED') {
    // STALLED is not terminal: the agent may still report. Issuing anything now could overlap
    // with a command that is still running on the node, so even non-destructive work waits.
    const why = isDestructive(latest.operation) ? 'it is destructive and never retried automatically' : 'it may still be running on the node';
    return wait(
      'Stalled',
      `Site ${name}: ${latest.operation} (${latest.name}, fence ${latest.fence}) stalled without heartbeats; ${why}: an operator must retry or abandon it`,
    );
  }
  return undefined;
}

/**
 * A phase that names running work (PROVISIONING, DEPLOYING, CLONING, RESTORING) with the newest
 * command finished: move the phase to the outcome. SUCCEEDED -> ACTIVE; FAILED or REJECTED (the
 * node refused the fence) -> FAILED. The generation does not matter here: a spec that changed
 * meanwhile is picked up from ACTIVE (observedGeneration < generation) or by the failure policy.
 * A running-work phase whose newest command is of another operation, or missing, cannot finish on
 * its own; it becomes FAILED so a human sees it rather than a site stuck forever.
 */
function reflectFinished(observed: SiteObservation): SiteAction | undefined {
  const { site, latestCommand: latest } = observed;
  const name = site.metadata.name;
  const phase = site.status.phase;
  if (phase !== 'PROVISIONING' && phase !== 'DEPLOYING' && phase !== 'CLONING' && phase !== 'RESTORING') return undefined;
  if (latest === undefined || OPERATION_PHASE[latest.operation] !== phase) {
    return complete(
      'FAILED',
      'PhaseCommandMismatch',
      `Site ${name}: phase ${phase} but the newest command is ${latest ? `${latest.operation} (${latest.name})` : 'missing'}`,
    );
  }
  const what = `${latest.operation} (${latest.name}, fence ${latest.fence})`;
  switch (latest.state) {
    case 'SUCCEEDED':
      return complete('ACTIVE', OPERATION_REASONS[latest.operation].succeeded, `Site ${name}: ${what} succeeded`);
    case 'FAILED':
      // A restore that failed at any step left the site as it was (the node stages beside it): still
      // serving. One an operator abandoned is another matter: nobody knows how far it got.
      if (latest.operation === 'RestoreSite' && latest.reason !== 'Abandoned') return complete('ACTIVE', 'RestoreFailed', `Site ${name}: ${what} failed; the site serves what it served before${latest.message ? `: ${latest.message.slice(0, 512)}` : ''}`);
      // The node's own reason (HealthCheckFailed, NginxConfigInvalid, ...) says more than the operation's.
      return complete(
        'FAILED',
        latest.reason && latest.reason !== 'StepFailed' ? latest.reason : OPERATION_REASONS[latest.operation].failed,
        `Site ${name}: ${what} failed${latest.message ? `: ${latest.message.slice(0, 512)}` : ''}`,
      );
    case 'REJECTED':
      if (latest.operation === 'RestoreSite') return complete('ACTIVE', 'RestoreFailed', `Site ${name}: node rejected ${what}; the site was not touched`);
      return complete('FAILED', 'CommandRejected', `Site ${name}: node rejected ${what} as stale`);
    case 'PENDING':
    case 'DISPATCHED':
    case 'RUNNING':
    case 'STALLED':
      return undefined; // commandGate waits for these
  }
}

function nodeHealth(observed: SiteObservation, advice: string): Wait | undefined {
  const { site, node } = observed;
  const name = site.metadata.name;
  const nodeName = site.status.nodeName ?? site.spec.nodeName ?? '(none)';
  if (node === undefined) return wait('NodeNotFound', `Site ${name}: node ${nodeName} does not exist; ${advice}`);
  if (!node.ready) return wait('NodeNotReady', `Site ${name}: waiting for node ${node.name} to become Ready`);
  return undefined;
}

/** An operation with a phase of its own moves the site there; one beside the site (a rotation) keeps `current`. */
function issue(operation: CommandOperation, current?: SitePhase): Extract<SiteAction, { type: 'issue' }> {
  const phase = OPERATION_PHASE[operation] ?? current;
  if (phase === undefined) throw new Error(`${operation} changes no site phase: issue it beside the site's current phase`);
  return { type: 'issue', operation, phase, destructive: isDestructive(operation) };
}

function complete(phase: SitePhase, reason: string, message: string): SiteAction {
  return { type: 'complete', phase, reason, message };
}

function wait(reason: string, message: string): Wait {
  return { type: 'wait', reason, message };
}
