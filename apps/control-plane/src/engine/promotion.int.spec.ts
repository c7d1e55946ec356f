import { type TestAgent, until, V1 } from '@pressluft/e2e-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { resourceApi, siteManifest, startEngineWithAgent } from '../../test/resource-api.js';

const GIT = 'https://git.example.test/shop.git';
const C0 = '0'.repeat(40);
const C1 = '1'.repeat(40);
const C2 = '2'.repeat(40);
function promotedSite(name: string, environment: 'staging' | 'production'): Record<string, unknown> {
  return siteManifest(name, { environment, code: { git: { url: GIT, ref: 'main' } } });
}

const promotionManifest = (name: string, from: string, to: string, more: Record<string, unknown> = {}) => ({ apiVersion: 'pressluft.io/v1', kind: 'Promotion', metadata: { name }, spec: { from, to, ...more } });

describe('promotions with a test agent on the real NATS server', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent;
  const { call, get, reasons, phaseOf, create } = resourceApi(() => fx);
  const sent = (site: string) => agent.received.filter((r) => r.command.ref?.site === site).map((r) => r.command.payload?.$case);

  /** A site ACTIVE and Ready whose node reports it built from `commit`. */
  const readySite = async (name: string, environment: 'staging' | 'production', commit: string) => {
    agent.identity = { currentCommit: commit, deployPublicKey: '' };
    await create('sites', promotedSite(name, environment));
    return until(`${name} ready at ${commit}`, async () => {
      const site = await get('sites', name);
      const ready = site?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return site?.status.phase === 'ACTIVE' && ready && site.status.currentCommit === commit ? site : undefined;
    });
  };

  beforeAll(async () => {
    ({ fx, agent } = await startEngineWithAgent());
  });

  afterAll(async () => {
    await agent?.stop();
    await fx?.stop();
  });

  it('backs the target up, then deploys the staging commit to it through its own deploy, and says so on both sites', async () => {
    const prod = await readySite('pr-prod', 'production', C0);
    await readySite('pr-stage', 'staging', C1);
    await create('promotions', promotionManifest('pr-1', 'pr-stage', 'pr-prod'));
    const done = await phaseOf('promotions', 'pr-1', 'SUCCEEDED');
    expect(done.status).toMatchObject({ gitUrl: GIT, commit: C1, preBackup: 'pr-1-pre-promotion', targetGeneration: prod.metadata.generation + 1 });
    const backup = await get('backups', 'pr-1-pre-promotion');
    expect(backup?.spec).toMatchObject({ site: 'pr-prod', reason: 'pre-promotion' });
    expect(backup?.metadata.labels).toMatchObject({ 'pressluft.io/promotion': 'pr-1', 'pressluft.io/site': 'pr-prod', 'pressluft.io/site-uid': prod.metadata.uid });
    expect(backup?.status.phase).toBe('SUCCEEDED');
    const after = (await get('sites', 'pr-prod'))!;
    expect(after.spec.code?.git).toEqual({ url: GIT, ref: C1 });
    expect(after.status).toMatchObject({ phase: 'ACTIVE', currentCommit: C1 });
    // The backup before the deploy; content never moves (no restore, no clone).
    expect(sent('pr-prod')).toEqual(['provisionSite', 'backupSite', 'deploySite']);
    expect(sent('pr-stage')).toEqual(['provisionSite']);
    for (const site of ['sites/pr-prod', 'sites/pr-stage']) expect(await reasons(site)).toEqual(expect.arrayContaining(['PromotionStarted', 'Promoted']));
    expect(await reasons('promotions/pr-1')).toEqual(expect.arrayContaining(['Started', 'PromotionStarted', 'Promoted']));
  });

  it('fails when the target deploy fails: the target keeps what it served, and its failed spec is not retried', async () => {
    agent.identity = { currentCommit: C2, deployPublicKey: '' };
    await call(`${V1}/sites/pr-stage`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Stage two' } } } });
    await until('pr-stage at C2', async () => ((await get('sites', 'pr-stage'))?.status.currentCommit === C2 ? true : undefined));
    // The backup hangs until released; the deploy that follows fails (ScriptedHost 'fail').
    agent.behaviour = 'hang';
    await create('promotions', promotionManifest('pr-2', 'pr-stage', 'pr-prod'));
    await until('pr-2 backing up', () => (agent.hostCalls.some((c) => c.backup === 'pr-2-pre-promotion') ? true : undefined));
    agent.finishHanging();
    agent.behaviour = 'fail';
    const failed = await phaseOf('promotions', 'pr-2', 'FAILED');
    agent.behaviour = 'succeed';
    expect(failed.status).toMatchObject({ commit: C2, reason: 'DeployFailed' });
    expect(failed.status.message).toContain('site pr-prod serves its previous release');
    expect((await get('backups', 'pr-2-pre-promotion'))?.status.phase).toBe('SUCCEEDED');
    const prod = (await get('sites', 'pr-prod'))!;
    expect(prod.status).toMatchObject({ phase: 'FAILED', currentCommit: C1 });
    expect(await reasons('sites/pr-prod')).toContain('DeployFailed');
    // The Site planner does not redeploy a failed generation on its own.
    await new Promise((r) => setTimeout(r, 1500));
    expect(sent('pr-prod').filter((c) => c === 'deploySite')).toHaveLength(2);
  });

  it('fails a promotion onto a drifted target without acknowledgeDrift before any backup or command', async () => {
    const digest = (c: string) => c.repeat(64);
    const applied = { 'nginx.serverBlock': digest('a'), wpConfig: digest('b') };
    agent.fingerprints = applied;
    try {
      await readySite('pd-prod', 'production', C0);
    } finally {
      agent.fingerprints = undefined;
    }
    await agent.sendReport([{ name: 'pd-prod', fence: 1, currentRelease: '', fingerprints: { ...applied, wpConfig: digest('c') }, fingerprinted: true, currentCommit: C0, deployPublicKey: '' }]);
    await until('pd-prod Drifted', async () => ((await get('sites', 'pd-prod'))?.status.conditions?.some((c) => c.type === 'Drifted' && c.status === 'True') ? true : undefined));
    await create('promotions', promotionManifest('pd-1', 'pr-stage', 'pd-prod'));
    const failed = await phaseOf('promotions', 'pd-1', 'FAILED');
    expect(failed.status).toMatchObject({ reason: 'TargetDrifted' });
    expect(failed.status.message).toContain('spec.acknowledgeDrift');
    expect(await get('backups', 'pd-1-pre-promotion')).toBeUndefined();
    expect(sent('pd-prod')).toEqual(['provisionSite']);
    expect((await get('sites', 'pd-prod'))?.spec.code?.git.ref).toBe('main');
  });
});
