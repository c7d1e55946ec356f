import { describe, expect, it } from 'vitest';
import { RUN_PHASES, type RunPhase } from '../backup.js';
import { promotionSpecSchema, promotionStatusSchema, type EnvironmentRefusal, type PromotionSpec, type PromotionStatus } from '../environments.js';
import type { Resource } from '../resource.js';
import { SITE_PHASES } from '../site-lifecycle.js';
import { planPromotion, prePromotionBackupName, promotedGit, type PromotionAction, type PromotionObservation, type PromotionSiteView } from './promotion.planner.js';

const C1 = 'a'.repeat(40);
const C0 = 'b'.repeat(40);
const URL = 'https://git.example.test/shop.git';
const KEYS = 'git.example.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample0000000000000000000000\n';

const promotion = (spec: Partial<PromotionSpec> = {}, status: Partial<PromotionStatus> = {}): Resource<PromotionSpec, PromotionStatus> => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Promotion',
  metadata: { name: 'up', uid: 'p0000000-0000-4000-8000-000000000001', generation: 1, resourceVersion: '5', labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-12-01T00:00:00Z' },
  spec: promotionSpecSchema.parse({ from: 'stage', to: 'prod', ...spec }),
  status: promotionStatusSchema.parse(status),
});

const STAGE: PromotionSiteView = {
  name: 'stage',
  environment: 'staging',
  phase: 'ACTIVE',
  bound: true,
  deleting: false,
  busy: false,
  ready: true,
  drifted: false,
  generation: 3,
  observedGeneration: 3,
  git: { url: URL, ref: 'main' },
  currentCommit: C1,
  currentRelease: '20261201T000000',
  latestCommand: { name: 'stage-3', operation: 'DeploySite', state: 'SUCCEEDED', generation: 3 },
};
const PROD: PromotionSiteView = {
  ...STAGE,
  name: 'prod',
  environment: 'production',
  generation: 7,
  observedGeneration: 7,
  git: { url: URL, ref: C0 },
  currentCommit: C0,
  currentRelease: '20261101T000000',
  latestCommand: { name: 'prod-9', operation: 'DeploySite', state: 'SUCCEEDED', generation: 7 },
};

const STARTED: Partial<PromotionStatus> = { phase: 'RUNNING', gitUrl: URL, commit: C1, preBackup: 'up-pre-promotion', previousRelease: '20261101T000000' };
const DEPLOYING: Partial<PromotionStatus> = { ...STARTED, targetGeneration: 8 };
/** The target once the promotion wrote its spec (generation 8), before its deploy finished. */
const WRITTEN: PromotionSiteView = { ...PROD, generation: 8, git: { url: URL, ref: C1 } };
const pre = (phase: RunPhase) => ({ name: 'up-pre-promotion', phase });
const REFUSED: EnvironmentRefusal = { rule: 'NoPromotionFromProduction', field: 'spec.from', message: 'site stage is production' };

interface World {
  spec?: Partial<PromotionSpec>;
  status?: Partial<PromotionStatus>;
  source?: Partial<PromotionSiteView> | null;
  target?: Partial<PromotionSiteView> | null;
  refusal?: EnvironmentRefusal;
  pre?: { name: string; phase: RunPhase };
}

function observe(world: World): PromotionObservation {
  return {
    promotion: promotion(world.spec, world.status),
    source: world.source === null ? undefined : { ...STAGE, ...world.source },
    target: world.target === null ? undefined : { ...(world.status?.targetGeneration ? WRITTEN : PROD), ...world.target },
    refusal: world.refusal,
    preBackup: world.pre,
  };
}

const scenarios: Array<[string, World, Partial<PromotionAction>]> = [
  // the checks (PENDING)
  ['a ready source: start with its commit and release', {}, { type: 'start', gitUrl: URL, commit: C1, sourceRelease: '20261201T000000', previousRelease: '20261101T000000' }],
  ['the source deploying: wait', { source: { phase: 'DEPLOYING', busy: true } }, { type: 'wait', reason: 'SourceNotReady' }],
  ['the source not Ready: wait', { source: { ready: false } }, { type: 'wait', reason: 'SourceNotReady' }],
  ['no commit reported yet: wait', { source: { currentCommit: undefined } }, { type: 'wait', reason: 'SourceCommitUnknown' }],
  ['a source without code: FAILED', { source: { git: undefined } }, { type: 'fail', reason: 'SourceHasNoCode' }],
  ['a drifted source: FAILED', { source: { drifted: true } }, { type: 'fail', reason: 'SourceDrifted' }],
  ['a drifted target: FAILED, says how to acknowledge', { target: { drifted: true } }, { type: 'fail', reason: 'TargetDrifted', message: expect.stringContaining('spec.acknowledgeDrift') as string }],
  ['a drifted target acknowledged: start', { spec: { acknowledgeDrift: true }, target: { drifted: true } }, { type: 'start' }],
  ['a missing source: FAILED', { source: null }, { type: 'fail', reason: 'SourceNotFound' }],
  ['a missing target: FAILED', { target: null }, { type: 'fail', reason: 'TargetNotFound' }],
  ['a deleting target: FAILED', { target: { deleting: true } }, { type: 'fail', reason: 'TargetDeleting' }],
  ['a deleting source: FAILED', { source: { deleting: true } }, { type: 'fail', reason: 'SourceDeleting' }],
  ['the direction rule refuses now: FAILED with its reason', { refusal: REFUSED }, { type: 'fail', reason: 'NoPromotionFromProduction', message: 'Promotion up: site stage is production' }],
  // the pre-promotion backup (RUNNING, target untouched)
  ['the backup runs: wait', { status: STARTED, pre: pre('RUNNING') }, { type: 'wait', reason: 'BackingUp' }],
  ['the backup FAILED: FAILED, target untouched', { status: STARTED, pre: pre('FAILED') }, { type: 'fail', reason: 'PreBackupFailed', message: 'Promotion up: the pre-promotion backup up-pre-promotion FAILED; site prod was not touched' }],
  ['the backup gone: FAILED', { status: STARTED }, { type: 'fail', reason: 'PreBackupNotFound' }],
  ['the backup SUCCEEDED: the target gets the commit', { status: STARTED, pre: pre('SUCCEEDED') }, { type: 'deploy', git: { url: URL, ref: C1 } }],
  ['the source changed since: still the recorded commit', { status: STARTED, pre: pre('SUCCEEDED'), source: { currentCommit: C0, phase: 'DEPLOYING' } }, { type: 'deploy', git: { url: URL, ref: C1 } }],
  ['the target busy: wait', { status: STARTED, pre: pre('SUCCEEDED'), target: { busy: true } }, { type: 'wait', reason: 'TargetBusy' }],
  ['the rule refuses before the write: FAILED', { status: STARTED, pre: pre('SUCCEEDED'), refusal: REFUSED }, { type: 'fail', reason: 'NoPromotionFromProduction' }],
  ['the target drifted meanwhile: FAILED', { status: STARTED, pre: pre('SUCCEEDED'), target: { drifted: true } }, { type: 'fail', reason: 'TargetDrifted' }],
  // following the target's deploy
  ['a target view from before the write (informer behind): nothing', { status: DEPLOYING, target: PROD }, { type: 'none' }],
  ['deploying: nothing', { status: DEPLOYING, target: { phase: 'DEPLOYING', busy: true } }, { type: 'none' }],
  ['deployed with the commit: SUCCEEDED', { status: DEPLOYING, target: { observedGeneration: 8, currentCommit: C1, currentRelease: '20261207T000000' } }, { type: 'succeed', release: '20261207T000000' }],
  ['deployed, commit not reported yet: wait', { status: DEPLOYING, target: { observedGeneration: 8 } }, { type: 'wait', reason: 'CommitNotReported' }],
  [
    'the deploy failed its health check: FAILED, the old release serves',
    { status: DEPLOYING, target: { phase: 'FAILED', observedGeneration: 8, latestCommand: { name: 'prod-10', operation: 'DeploySite', state: 'FAILED', generation: 8, reason: 'HealthCheckFailed', message: 'GET / answered 500' } } },
    { type: 'fail', reason: 'HealthCheckFailed', message: expect.stringContaining('GET / answered 500; site prod serves its previous release 20261101T000000') as string },
  ],
  ['the deploy failed before the site reflected it: FAILED', { status: DEPLOYING, target: { phase: 'DEPLOYING', latestCommand: { name: 'prod-10', operation: 'DeploySite', state: 'FAILED', generation: 8 } } }, { type: 'fail', reason: 'DeployFailed' }],
  ['an older failed deploy is not this one', { status: DEPLOYING, target: { phase: 'FAILED', observedGeneration: 7, latestCommand: { name: 'prod-9', operation: 'DeploySite', state: 'FAILED', generation: 7 } } }, { type: 'none' }],
  ['the target spec changed to another ref: FAILED', { status: DEPLOYING, target: { git: { url: URL, ref: 'main' } } }, { type: 'fail', reason: 'Superseded' }],
  ['the rule is not asked once the target is written', { status: DEPLOYING, refusal: REFUSED, target: { observedGeneration: 8, currentCommit: C1 } }, { type: 'succeed' }],
  // terminal
  ['SUCCEEDED is final', { status: { phase: 'SUCCEEDED' }, target: null }, { type: 'none' }],
  ['FAILED is final', { status: { phase: 'FAILED' }, source: null }, { type: 'none' }],
];

describe('planPromotion', () => {
  it.each(scenarios)('%s', (_, world, expected) => {
    const observed = observe(world);
    const action = planPromotion(observed);
    expect(action).toMatchObject(expected);
    expect(planPromotion(observed)).toEqual(action);
  });

  it('names the pre-promotion backup after the promotion, within 63 characters', () => {
    expect(prePromotionBackupName('up')).toBe('up-pre-promotion');
    expect(prePromotionBackupName('x'.repeat(60)).length).toBeLessThanOrEqual(63);
  });

  it.each([
    ['the same URL keeps the target own fields', { url: URL, ref: 'main', username: 'deploy' }, undefined, URL, { url: URL, ref: C1, username: 'deploy' }],
    ['another URL drops them', { url: 'https://git.example.test/other.git', ref: 'main', username: 'deploy' }, undefined, URL, { url: URL, ref: C1 }],
    ['a target without code gets the URL', undefined, undefined, URL, { url: URL, ref: C1 }],
    ['an ssh URL brings the source host keys', undefined, { url: 'git@git.example.test:shop.git', ref: 'main', knownHosts: KEYS }, 'git@git.example.test:shop.git', { url: 'git@git.example.test:shop.git', ref: C1, knownHosts: KEYS }],
  ] as const)('promotedGit: %s', (_, target, source, url, expected) => {
    expect(promotedGit(target, source, url, C1)).toEqual(expected);
  });
});

/**
 * Invariants over a generated state space: the promotion's stage, the source's and the target's
 * phase, readiness, drift, commit, newest command and deploy progress, the rule and the backup.
 */
describe('planPromotion: invariants over the state space', () => {
  const statuses: Partial<PromotionStatus>[] = [{}, STARTED, DEPLOYING, { ...DEPLOYING, phase: 'SUCCEEDED' }, { ...STARTED, phase: 'FAILED' }];
  const commands: PromotionSiteView['latestCommand'][] = [undefined, ...(['RUNNING', 'SUCCEEDED', 'FAILED', 'REJECTED', 'STALLED'] as const).flatMap((state) => [7, 8].map((generation) => ({ name: 'prod-10', operation: 'DeploySite' as const, state, generation })))];
  const worlds: World[] = [];
  for (const status of statuses)
    for (const sourcePhase of ['ACTIVE', 'DEPLOYING'] as const)
      for (const [ready, drifted, commit] of [[true, false, C1], [false, false, C1], [true, true, C1], [true, false, undefined]] as const)
        for (const targetPhase of SITE_PHASES)
          for (const [targetDrifted, busy, deleting] of [[false, false, false], [true, false, false], [false, true, false], [false, false, true]] as const)
            for (const [observedGeneration, currentCommit] of [[7, C0], [8, C0], [8, C1]] as const)
              for (const latestCommand of commands)
                for (const refusal of [undefined, REFUSED])
                  for (const phase of [undefined, ...RUN_PHASES])
                    for (const acknowledgeDrift of [false, true])
                      worlds.push({
                        status,
                        spec: { acknowledgeDrift },
                        source: { phase: sourcePhase, ready, drifted, currentCommit: commit },
                        target: { phase: targetPhase, drifted: targetDrifted, busy, deleting, observedGeneration, currentCommit, latestCommand },
                        ...(refusal ? { refusal } : {}),
                        ...(phase ? { pre: pre(phase) } : {}),
                      });

  const plans = worlds.map((world) => ({ world, observed: observe(world), plan: planPromotion(observe(world)) }));
  type Case = (typeof plans)[number];
  const violations = (holds: (c: Case) => boolean) => plans.filter((c) => !holds(c)).slice(0, 3).map(({ world, plan }) => ({ world, plan }));

  it('covers a large space', () => {
    expect(worlds.length).toBeGreaterThan(100_000);
    expect(new Set(plans.map(({ plan }) => plan.type))).toEqual(new Set(['none', 'wait', 'start', 'deploy', 'succeed', 'fail']));
  });

  it('never touches the target before its pre-promotion backup SUCCEEDED, nor against the rule or unacknowledged drift', () => {
    expect(
      violations(({ observed, plan }) => plan.type !== 'deploy' || (observed.preBackup?.phase === 'SUCCEEDED' && !observed.refusal && (!observed.target?.drifted || observed.promotion.spec.acknowledgeDrift) && observed.target?.busy === false)),
    ).toEqual([]);
  });

  it('deploys nothing but the recorded commit from the recorded URL', () => {
    expect(violations(({ observed: { promotion }, plan }) => plan.type !== 'deploy' || (plan.git.ref === promotion.status.commit && plan.git.url === promotion.status.gitUrl))).toEqual([]);
  });

  it('starts only from an ACTIVE, Ready, undrifted source with a commit, and records that commit', () => {
    expect(
      violations(({ observed: { source }, plan }) => plan.type !== 'start' || (source?.phase === 'ACTIVE' && source.ready && !source.drifted && plan.commit === source.currentCommit)),
    ).toEqual([]);
  });

  it('succeeds only once the target converged on the commit; terminal phases stay terminal', () => {
    expect(
      violations(({ observed: { promotion, target }, plan }) => plan.type !== 'succeed' || (target?.currentCommit === promotion.status.commit && (target?.observedGeneration ?? -1) >= (promotion.status.targetGeneration ?? Infinity))),
    ).toEqual([]);
    expect(violations(({ observed: { promotion }, plan }) => !['SUCCEEDED', 'FAILED'].includes(promotion.status.phase) || plan.type === 'none')).toEqual([]);
  });
});
