import type { RunPhase } from '../backup.js';
import type { CommandOperation, CommandState } from '../command.js';
import type { EnvironmentRefusal, PromotionSpec, PromotionStatus } from '../environments.js';
import type { Resource } from '../resource.js';
import type { GitSourceSpec } from '../site.js';
import { siteNotIdle, type RunSiteView } from './backup.planner.js';
import { derivedName } from '../derived-names.js';

/** The label on a pre-promotion Backup: the Promotion that asked for it. */
export const BACKUP_FOR_PROMOTION_LABEL = 'pressluft.io/promotion';

/** A site (source or target) as the Promotion planner needs it. */
export interface PromotionSiteView extends RunSiteView {
  readonly environment: 'production' | 'staging';
  /** Condition Ready is True. */
  readonly ready: boolean;
  /** Condition Drifted is True. */
  readonly drifted: boolean;
  readonly generation: number;
  readonly observedGeneration: number;
  readonly git: GitSourceSpec | undefined;
  readonly currentCommit: string | undefined;
  readonly currentRelease: string | undefined;
  /** The site's newest command (highest fence). */
  readonly latestCommand: { readonly name: string; readonly operation: CommandOperation; readonly state: CommandState; readonly generation: number; readonly reason?: string; readonly message?: string } | undefined;
}

export interface PromotionObservation {
  readonly promotion: Resource<PromotionSpec, PromotionStatus>;
  readonly source: PromotionSiteView | undefined;
  readonly target: PromotionSiteView | undefined;
  /** The direction rule's verdict on the two sites as they are now (promotionRefusal); undefined without both. */
  readonly refusal: EnvironmentRefusal | undefined;
  /** The pre-promotion Backup this Promotion asked for, if any. */
  readonly preBackup: { readonly name: string; readonly phase: RunPhase } | undefined;
}

/**
 * The one next step for a Promotion. `start`: the checks passed; record what is promoted, take
 * the target's pre-promotion Backup, RUNNING. `deploy`: the backup SUCCEEDED; write `git` into the
 * target's spec.code.git (its Site reconciler deploys the new generation, health-gated). `wait`:
 * only the message changes. `succeed`/`fail`: the end.
 */
export type PromotionAction =
  | { type: 'none' }
  | { type: 'wait'; reason: string; message: string }
  | { type: 'start'; gitUrl: string; commit: string; sourceRelease: string | undefined; previousRelease: string | undefined }
  | { type: 'deploy'; git: GitSourceSpec }
  | { type: 'succeed'; release: string | undefined }
  | { type: 'fail'; reason: string; message: string };

/** The pre-promotion Backup's name: one per Promotion. */
export function prePromotionBackupName(promotion: string): string {
  return derivedName(promotion, 'pre-promotion');
}

/**
 * The target's git source after the promotion: the promoted URL at the exact commit. The target's
 * own knownHosts and username stay only with the same URL (they are about that server and the
 * target's token); for another URL the source's pinned host keys come along (they are the server's).
 */
export function promotedGit(target: GitSourceSpec | undefined, source: GitSourceSpec | undefined, url: string, commit: string): GitSourceSpec {
  if (target?.url === url) return { ...target, ref: commit };
  return { url, ref: commit, ...(source?.url === url && source.knownHosts ? { knownHosts: source.knownHosts } : {}) };
}

const NONE: PromotionAction = { type: 'none' };
const fail = (reason: string, message: string): PromotionAction => ({ type: 'fail', reason, message });
const wait = (reason: string, message: string): PromotionAction => ({ type: 'wait', reason, message });

export function planPromotion(observed: PromotionObservation): PromotionAction {
  const { promotion, target } = observed;
  const { phase, targetGeneration } = promotion.status;
  const name = promotion.metadata.name;
  if (phase === 'SUCCEEDED' || phase === 'FAILED') return NONE;
  if (!target) return fail('TargetNotFound', `Promotion ${name}: site ${promotion.spec.to} does not exist`);
  if (target.deleting) return fail('TargetDeleting', `Promotion ${name}: site ${target.name} is being deleted`);
  if (targetGeneration !== undefined) return planDeploying(observed, target, targetGeneration);
  // Until the target is touched the rules hold now, not only when the Promotion was admitted.
  if (observed.refusal) return fail(observed.refusal.rule, `Promotion ${name}: ${observed.refusal.message}`);
  if (target.drifted && !promotion.spec.acknowledgeDrift) {
    return fail('TargetDrifted', `Promotion ${name}: site ${target.name} is Drifted (changed on its node); set spec.acknowledgeDrift: true in a new Promotion to promote over the drift`);
  }
  return phase === 'PENDING' ? planChecks(observed, target) : planBackedUp(observed, target);
}

function planChecks(observed: PromotionObservation, target: PromotionSiteView): PromotionAction {
  const { promotion, source } = observed;
  const name = promotion.metadata.name;
  if (!source) return fail('SourceNotFound', `Promotion ${name}: site ${promotion.spec.from} does not exist`);
  if (source.deleting) return fail('SourceDeleting', `Promotion ${name}: site ${source.name} is being deleted`);
  if (!source.git) return fail('SourceHasNoCode', `Promotion ${name}: site ${source.name} has no spec.code.git: there is no code to promote`);
  if (source.drifted) return fail('SourceDrifted', `Promotion ${name}: site ${source.name} is Drifted: what it serves is not what was deployed; converge it (or deploy again) and promote then`);
  if (source.phase !== 'ACTIVE' || !source.ready) return wait('SourceNotReady', `Promotion ${name}: waiting for site ${source.name} to be ACTIVE and Ready (it is ${source.phase})`);
  if (!source.currentCommit) return wait('SourceCommitUnknown', `Promotion ${name}: waiting for site ${source.name}'s node to report the commit it serves`);
  return { type: 'start', gitUrl: source.git.url, commit: source.currentCommit, sourceRelease: source.currentRelease, previousRelease: target.currentRelease };
}

/** RUNNING, the target not yet written: its pre-promotion Backup, then the spec write. */
function planBackedUp(observed: PromotionObservation, target: PromotionSiteView): PromotionAction {
  const { promotion, preBackup: pre, source } = observed;
  const { gitUrl, commit } = promotion.status;
  const name = promotion.metadata.name;
  if (!gitUrl || !commit) return fail('NothingRecorded', `Promotion ${name}: RUNNING without a recorded commit; site ${target.name} was not touched`);
  if (!pre) return fail('PreBackupNotFound', `Promotion ${name}: its pre-promotion backup ${promotion.status.preBackup ?? ''} is gone; site ${target.name} was not touched`);
  if (pre.phase === 'FAILED') return fail('PreBackupFailed', `Promotion ${name}: the pre-promotion backup ${pre.name} FAILED; site ${target.name} was not touched`);
  if (pre.phase !== 'SUCCEEDED') return wait('BackingUp', `Promotion ${name}: waiting for the pre-promotion backup ${pre.name} (${pre.phase})`);
  const busy = siteNotIdle(target, ['ACTIVE', 'FAILED']);
  if (busy) return wait('TargetBusy', `Promotion ${name}: waiting: ${busy}`);
  return { type: 'deploy', git: promotedGit(target.git, source?.git, gitUrl, commit) };
}

/** The target's spec names the commit (generation `generation`): follow its deploy. */
function planDeploying(observed: PromotionObservation, target: PromotionSiteView, generation: number): PromotionAction {
  const { promotion } = observed;
  const { commit, gitUrl, previousRelease } = promotion.status;
  const name = promotion.metadata.name;
  // A view from before the promotion's own write (an informer behind the database): wait for it.
  if (target.generation < generation) return NONE;
  const converged = target.observedGeneration >= generation;
  if (converged && target.phase === 'ACTIVE' && target.currentCommit === commit) return { type: 'succeed', release: target.currentRelease };
  const serves = `site ${target.name} serves its previous release${previousRelease ? ` ${previousRelease}` : ''}`;
  const latest = target.latestCommand;
  const failedDeploy = latest && latest.operation === 'DeploySite' && latest.generation >= generation && (latest.state === 'FAILED' || latest.state === 'REJECTED') ? latest : undefined;
  if (failedDeploy || (converged && target.phase === 'FAILED')) {
    const why = failedDeploy?.reason && failedDeploy.reason !== 'StepFailed' ? failedDeploy.reason : 'DeployFailed';
    const detail = failedDeploy?.message ? `: ${failedDeploy.message.slice(0, 400)}` : '';
    return fail(
      why,
      `Promotion ${name}: the deploy of commit ${commit ?? ''} to site ${target.name} failed${detail}; ${serves}. ` +
        `Its spec.code.git.ref still names the commit (not retried until its spec changes): promote a fixed commit, or set the ref back`,
    );
  }
  if (target.git?.url !== gitUrl || target.git?.ref !== commit) {
    return fail('Superseded', `Promotion ${name}: site ${target.name}'s spec.code.git changed before commit ${commit ?? ''} was deployed`);
  }
  return converged && target.phase === 'ACTIVE' ? wait('CommitNotReported', `Promotion ${name}: waiting for site ${target.name}'s node to report commit ${commit ?? ''}`) : NONE;
}
