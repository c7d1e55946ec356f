import { Inject, Injectable } from '@nestjs/common';
import {
  BACKUP_FOR_PROMOTION_LABEL,
  findCondition,
  planPromotion,
  prePromotionBackupName,
  promotionRefusal,
  setCondition,
  siteSpecSchema,
  type GitSourceSpec,
  type PromotionAction,
  type PromotionSiteView,
  type PromotionStatus,
  type ResourceOf,
} from '@pressluft/domain';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { CommandQueries } from '../resources/command.queries.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { createBackup, lockIdleSite, newestCommand, runSiteView, WaitingRuns } from './backup-runs.js';
import type { Site } from './command.issuer.js';
import { own, watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';

type Promotion = ResourceOf<'Promotion'>;

/** A Promotion waiting for its source to be ready looks again this often (besides the source's changes). */
const WAIT_REQUEUE_MS = 30_000;

/**
 * Promotion runs ("code up"; libs/domain planPromotion decides): checks of both sites, the
 * target's pre-promotion Backup, then the target Site's spec.code.git set to the source's exact
 * commit, so its own Site reconciler deploys it like any spec change (health-gated on the node: a
 * failed check keeps the old release). Content never moves. Woken by its Promotions, their
 * pre-promotion Backups and the changes of the sites they name.
 */
@Injectable()
export class PromotionReconciler implements Reconciler {
  readonly kind = 'Promotion';
  private readonly bySource = new WaitingRuns();
  private readonly byTarget = new WaitingRuns();
  readonly watches = [
    own('Promotion'),
    watch('Backup', ({ object }) => {
      const promotion = object.metadata.labels[BACKUP_FOR_PROMOTION_LABEL];
      return promotion ? [promotion] : [];
    }),
    watch('Site', ({ object }) => [...new Set([...this.bySource.of(object.metadata.name), ...this.byTarget.of(object.metadata.name)])]),
  ];

  constructor(
    private readonly store: ResourceStore,
    private readonly commands: CommandQueries,
    private readonly leader: LeaderElection,
    private readonly cache: InformerCache,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const promotion = await this.store.get('Promotion', name);
    if (!promotion || promotion.status.phase === 'SUCCEEDED' || promotion.status.phase === 'FAILED') {
      this.bySource.set(name, undefined);
      this.byTarget.set(name, undefined);
      return {};
    }
    const { from, to } = promotion.spec;
    const [source, target] = [await this.site(from), await this.site(to)];
    const pre = await this.store.get('Backup', prePromotionBackupName(name));
    const action = planPromotion({
      promotion,
      source: source && (await this.view(source)),
      target: target && (await this.view(target)),
      refusal: source && target ? promotionRefusal({ name: from, environment: source.spec.environment }, { name: to, environment: target.spec.environment }) : undefined,
      preBackup: pre && pre.metadata.labels[BACKUP_FOR_PROMOTION_LABEL] === name ? { name: pre.metadata.name, phase: pre.status.phase } : undefined,
    });
    this.bySource.set(name, promotion.status.phase === 'PENDING' ? from : undefined);
    this.byTarget.set(name, to);
    const requeue = action.type === 'wait' && promotion.status.phase === 'PENDING' ? { requeueAfterMs: WAIT_REQUEUE_MS } : {};
    if (action.type === 'none' || (action.type === 'wait' && promotion.status.message === action.message)) return requeue;
    const now = this.clock.now();
    await this.leader.transaction(async (tx) => {
      const fresh = await tx.get('Promotion', name, { lock: true });
      if (fresh?.metadata.resourceVersion !== promotion.metadata.resourceVersion) return;
      await this.apply(tx, fresh, action, target, now);
    });
    return requeue;
  }

  private site(name: string): Promise<Site | undefined> {
    const cached = this.cache.site(name);
    return cached ? Promise.resolve(cached) : this.store.get('Site', name);
  }

  private async view(site: Site): Promise<PromotionSiteView> {
    const latest = await newestCommand(site, this.cache, this.commands);
    const { status, spec, metadata } = site;
    return {
      ...runSiteView(site, latest),
      environment: spec.environment,
      ready: findCondition(status.conditions, 'Ready')?.status === 'True',
      drifted: findCondition(status.conditions, 'Drifted')?.status === 'True',
      generation: metadata.generation,
      observedGeneration: status.observedGeneration,
      git: spec.code?.git,
      currentCommit: status.currentCommit,
      currentRelease: status.currentRelease,
      latestCommand: latest && {
        name: latest.metadata.name,
        operation: latest.spec.operation,
        state: latest.status.state,
        generation: latest.spec.generation,
        ...(latest.status.reason ? { reason: latest.status.reason } : {}),
        ...(latest.status.message ? { message: latest.status.message } : {}),
      },
    };
  }

  /** Carries out the action on the locked Promotion. */
  private async apply(tx: ResourceTransaction, promotion: Promotion, action: Exclude<PromotionAction, { type: 'none' }>, observedTarget: Site | undefined, now: Date): Promise<void> {
    const name = promotion.metadata.name;
    const { from, to } = promotion.spec;
    const write = (status: PromotionStatus): Promise<Promotion> => tx.update(promotion, { ...writeOf(promotion), status: { ...status, observedGeneration: promotion.metadata.generation } }, now);
    const { message: _message, ...status } = promotion.status;
    switch (action.type) {
      case 'wait':
        await write({ ...promotion.status, message: action.message });
        return;
      case 'start': {
        const site = await tx.get('Site', to, { lock: true });
        if (!site) return;
        const pre = await createBackup(tx, site, prePromotionBackupName(name), 'pre-promotion', { [BACKUP_FOR_PROMOTION_LABEL]: name }, now);
        const { sourceRelease, previousRelease } = action;
        const started = await write({
          ...status,
          phase: 'RUNNING',
          startedAt: now.toISOString(),
          gitUrl: action.gitUrl,
          commit: action.commit,
          preBackup: pre.metadata.name,
          ...(sourceRelease ? { sourceRelease } : {}),
          ...(previousRelease ? { previousRelease } : {}),
          message: `Promotion ${name}: commit ${action.commit} of site ${from}; waiting for the pre-promotion backup ${pre.metadata.name} of site ${to}`,
        });
        await recordEvent(tx, started, 'Normal', 'Started', `Promotion ${name}: commit ${action.commit} of site ${from} goes to site ${to}; Backup ${pre.metadata.name} first`, now);
        return;
      }
      case 'deploy':
        await this.deploy(tx, promotion, action.git, observedTarget, write, now);
        return;
      case 'succeed': {
        const message = `Promotion ${name}: site ${to} serves commit ${status.commit ?? ''} of site ${from}${action.release ? ` (release ${action.release})` : ''}`;
        const done = await write({
          ...status,
          phase: 'SUCCEEDED',
          completedAt: now.toISOString(),
          ...(action.release ? { release: action.release } : {}),
          conditions: setCondition(status.conditions, { type: 'Succeeded', status: 'True', reason: 'Promoted', message }, now),
        });
        await this.eventEverywhere(tx, done, 'Normal', 'Promoted', message, now);
        return;
      }
      case 'fail': {
        const message = action.message.slice(0, 1024);
        const done = await write({
          ...promotion.status,
          phase: 'FAILED',
          completedAt: now.toISOString(),
          reason: action.reason,
          message,
          conditions: setCondition(status.conditions, { type: 'Succeeded', status: 'False', reason: action.reason, message }, now),
        });
        await this.eventEverywhere(tx, done, 'Warning', action.reason, message, now);
      }
    }
  }

  /**
   * The target's spec.code.git becomes the promoted commit, with the target as the plan saw it
   * (its resourceVersion: any change meanwhile is planned again) and idle (re-checked under its
   * lock); the generation this write makes is the one the Promotion follows.
   */
  private async deploy(tx: ResourceTransaction, promotion: Promotion, git: GitSourceSpec, observed: Site | undefined, write: (status: PromotionStatus) => Promise<Promotion>, now: Date): Promise<void> {
    const locked = await lockIdleSite(tx, promotion.spec.to, ['ACTIVE', 'FAILED']);
    if ('why' in locked || locked.site.metadata.resourceVersion !== observed?.metadata.resourceVersion) return;
    const { site } = locked;
    const name = promotion.metadata.name;
    const spec = siteSpecSchema.safeParse({ ...site.spec, code: { git } });
    if (!spec.success) {
      await this.apply(tx, promotion, { type: 'fail', reason: 'TargetSpecInvalid', message: `Promotion ${name}: site ${site.metadata.name} cannot take the promoted source: ${spec.error.issues[0]?.message ?? ''}; it was not touched` }, observed, now);
      return;
    }
    const generation = site.metadata.generation + 1;
    await tx.update(site, { ...writeOf(site), spec: spec.data, generation }, now);
    const message = `Promotion ${name}: site ${site.metadata.name} deploys commit ${git.ref} of site ${promotion.spec.from} (generation ${generation})`;
    const running = await write({ ...promotion.status, targetGeneration: generation, message });
    await this.eventEverywhere(tx, running, 'Normal', 'PromotionStarted', message, now);
  }

  /** An Event on the Promotion and on both its sites (those that exist). */
  private async eventEverywhere(tx: ResourceTransaction, promotion: Promotion, type: 'Normal' | 'Warning', reason: string, message: string, now: Date): Promise<void> {
    await recordEvent(tx, promotion, type, reason, message, now);
    for (const name of [promotion.spec.from, promotion.spec.to]) {
      const site = await tx.get('Site', name);
      if (site) await recordEvent(tx, site, type, reason, message, now);
    }
  }
}
