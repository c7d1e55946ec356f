import { type TestAgent, until, V1 } from '@pressluft/e2e-harness';
import { pgQuery } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { resourceApi, siteManifest, startEngineWithAgent } from '../../test/resource-api.js';

type Status = { message: string; reason: string; details?: { causes?: Array<{ field: string; message: string }> } };

const run = (kind: 'ContentSync' | 'Promotion', name: string, from: string, to: string, more: Record<string, unknown> = {}) => ({ apiVersion: 'pressluft.io/v1', kind, metadata: { name }, spec: { from, to, ...more } });

/** What a refused write must not have made: no run, backup, restore, command or event row, no outbox message. */
const TRACE_SQL = `
  SELECT (SELECT coalesce(json_agg(kind || '/' || name ORDER BY kind, name), '[]'::json) FROM resources
           WHERE kind IN ('ContentSync', 'Promotion', 'Restore', 'Backup', 'Command', 'Event')) AS objects,
         (SELECT count(*) FROM outbox)::int AS outbox`;

describe('ContentSync runs and the environment rules, with a test agent on the real NATS server', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent;
  const { call, get, events, phaseOf, create } = resourceApi(() => fx);
  const hostCalls = (site: string) => agent.hostCalls.filter((c) => c.site === site);
  const hostCalled = (what: string, site: string, backup: string) => until(what, () => (hostCalls(site).some((c) => c.backup === backup) ? true : undefined));
  const trace = async () => (await pgQuery(fx.database.url, TRACE_SQL)).rows[0] as { objects: string[]; outbox: number };

  const activeSite = async (name: string, environment: 'production' | 'staging') => {
    await create('sites', siteManifest(name, { environment }));
    return phaseOf('sites', name, 'ACTIVE');
  };
  /** A refused create: its code, reason and Status; nothing of it stored, sent or recorded. */
  const refused = async (plural: string, body: ReturnType<typeof run>, code: number): Promise<Status> => {
    const before = await trace();
    const response = await call<Status>(`${V1}/${plural}`, { method: 'POST', body });
    expect(response.status, response.text).toBe(code);
    expect(await trace()).toEqual(before);
    return response.body;
  };

  beforeAll(async () => {
    ({ fx, agent } = await startEngineWithAgent());
    await activeSite('prod', 'production');
    await activeSite('prod-two', 'production');
    await activeSite('stage', 'staging');
    await activeSite('stage-two', 'staging');
  });

  afterAll(async () => {
    await agent?.stop();
    await fx?.stop();
  });

  it('moves database and uploads from production to staging: the source backup, the target backed up, then RestoreSite with those parts', async () => {
    await create('contentsyncs', run('ContentSync', 'down', 'prod', 'stage', { parts: ['database', 'uploads'] }));
    const done = await phaseOf('contentsyncs', 'down', 'SUCCEEDED');
    expect(done.status).toMatchObject({ sourceBackup: 'down-source', restore: 'down', preSyncBackup: 'down-pre-restore', moved: { parts: ['database', 'uploads'], bytes: 4096, files: 3 } });
    expect(done.status.conditions?.find((c) => c.type === 'Succeeded')).toMatchObject({ status: 'True', reason: 'Synced' });

    const source = (await get('backups', 'down-source'))!;
    expect(source.spec).toMatchObject({ site: 'prod', reason: 'sync-source' });
    expect(source.metadata.labels).toMatchObject({ 'pressluft.io/contentsync': 'down', 'pressluft.io/site': 'prod' });
    const restore = (await get('restores', 'down'))!;
    expect(restore.spec).toEqual({ backup: 'down-source', site: 'stage', parts: ['database', 'uploads'], skipPreRestoreBackup: false });
    expect(restore.metadata.labels).toMatchObject({ 'pressluft.io/contentsync': 'down' });
    expect((await get('backups', 'down-pre-restore'))?.spec).toMatchObject({ site: 'stage', reason: 'pre-restore' });

    // The source is only read; the target is backed up before it is overwritten.
    expect(hostCalls('prod').map((c) => c.operation)).toEqual(['provision', 'backup']);
    expect(hostCalls('stage').map((c) => [c.operation, c.backup])).toEqual([['provision', undefined], ['backup', 'down-pre-restore'], ['restore', 'down-source']]);
    const payload = agent.received.filter((r) => r.command.ref?.site === 'stage').at(-1)?.command.payload;
    expect(payload?.$case === 'restoreSite' && payload.value).toMatchObject({ backup: 'down-source', parts: ['database', 'uploads'], sourceDomains: ['prod.example.test'], site: { name: 'stage' } });

    expect((await events('contentsyncs/down')).map((e) => e.reason)).toEqual(expect.arrayContaining(['SourceBackup', 'Restoring', 'Synced']));
    expect((await events('sites/stage')).map((e) => e.reason)).toEqual(expect.arrayContaining(['ContentSync', 'Synced']));
    expect((await phaseOf('sites', 'stage', 'ACTIVE')).spec['environment']).toBe('staging');
  });

  it('ends FAILED when the restore fails; the target serves what it served before', async () => {
    agent.behaviour = 'hang';
    try {
      await create('contentsyncs', run('ContentSync', 'down-bad', 'prod', 'stage'));
      await hostCalled('the source backup hanging', 'prod', 'down-bad-source');
      agent.finishHanging();
      agent.behaviour = 'hang';
      await hostCalled('the pre-restore backup hanging', 'stage', 'down-bad-pre-restore');
      agent.finishHanging();
      agent.behaviour = 'fail';
      const failed = await phaseOf('contentsyncs', 'down-bad', 'FAILED');
      expect(failed.status.message).toContain('the restore into site stage FAILED');
      expect(failed.status.message).toContain('serves what it served before');
      expect(failed.status.conditions?.find((c) => c.type === 'Succeeded')).toMatchObject({ status: 'False', reason: 'RestoreFailed' });
      expect(hostCalls('stage').at(-1)).toMatchObject({ operation: 'restore', backup: 'down-bad-source' });
      expect((await events('sites/stage')).find((e) => e.reason === 'RestoreFailed' && e.message.includes('ContentSync'))?.type).toBe('Warning');
      expect((await phaseOf('sites', 'stage', 'ACTIVE')).status.phase).toBe('ACTIVE');
    } finally {
      agent.behaviour = 'succeed';
    }
  });

  it('refuses every forbidden direction with 422 naming the rule and the field; nothing is stored, sent or recorded', async () => {
    const cases: Array<[string, ReturnType<typeof run>, string, string]> = [
      ['contentsyncs', run('ContentSync', 'up-bad', 'stage', 'prod'), 'NoContentIntoProduction', 'spec.to'],
      ['contentsyncs', run('ContentSync', 'across-bad', 'prod', 'prod-two'), 'NoContentIntoProduction', 'spec.to'],
      ['promotions', run('Promotion', 'down-promo', 'prod', 'stage'), 'NoPromotionToStaging', 'spec.to'],
      ['promotions', run('Promotion', 'across-promo', 'prod', 'prod-two'), 'NoPromotionFromProduction', 'spec.from'],
    ];
    for (const [plural, body, rule, field] of cases) {
      const status = await refused(plural, body, 422);
      expect(status.reason).toBe('Invalid');
      expect(status.message).toContain(rule);
      expect(status.details?.causes?.[0]?.field).toBe(field);
    }
    expect((await refused('contentsyncs', run('ContentSync', 'up-bad', 'stage', 'prod'), 422)).message).toContain('never overwrite production content with staging data');
    expect((await refused('promotions', run('Promotion', 'across-promo', 'prod', 'prod-two'), 422)).message).toContain("a Promotion deploys a staging site's tested commit");
  });

  it('admits the allowed directions (dry run) and refuses a missing site with 422 naming the field', async () => {
    for (const [plural, body] of [
      ['contentsyncs', run('ContentSync', 'ok-sync', 'stage', 'stage-two')],
      ['promotions', run('Promotion', 'ok-promo', 'stage', 'prod')],
      ['promotions', run('Promotion', 'ok-promo-stage', 'stage', 'stage-two')],
    ] as const) {
      const response = await call(`${V1}/${plural}?dryRun=All`, { method: 'POST', body });
      expect(response.status, response.text).toBe(201);
    }
    expect((await refused('contentsyncs', run('ContentSync', 'no-from', 'gone', 'stage'), 422)).details?.causes?.[0]?.field).toBe('spec.from');
    expect((await refused('promotions', run('Promotion', 'no-to', 'stage', 'gone'), 422)).details?.causes?.[0]?.field).toBe('spec.to');
  });

  it('while a ContentSync runs: its spec is immutable, and the target takes no spec change, delete, Restore, sync or promotion (409)', async () => {
    agent.behaviour = 'hang';
    try {
      await create('contentsyncs', run('ContentSync', 'busy', 'prod', 'stage-two', { parts: ['database'] }));
      await hostCalled('the source backup hanging', 'prod', 'busy-source');
      const patch = await call(`${V1}/contentsyncs/busy`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { parts: ['uploads'] } } });
      expect(patch.status).toBe(422);
      const site = await call<Status>(`${V1}/sites/stage-two`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Changed' } } } });
      expect(site.status).toBe(409);
      expect(site.body.message).toContain('ContentSync busy');
      expect((await call(`${V1}/sites/stage-two`, { method: 'DELETE' })).status).toBe(409);
      const restore = { apiVersion: 'pressluft.io/v1', kind: 'Restore', metadata: { name: 'busy-restore' }, spec: { backup: 'down-source', site: 'stage-two' } };
      expect((await call(`${V1}/restores`, { method: 'POST', body: restore })).status).toBe(409);
      expect((await refused('contentsyncs', run('ContentSync', 'busy-two', 'stage', 'stage-two'), 409)).message).toContain('ContentSync busy');
      expect((await refused('promotions', run('Promotion', 'busy-promo', 'stage', 'stage-two'), 409)).message).toContain('ContentSync busy');
      // The source is read only: it stays free.
      expect((await call(`${V1}/sites/prod`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { touched: 'yes' } } } })).status).toBe(200);
      agent.finishHanging();
      await phaseOf('contentsyncs', 'busy', 'SUCCEEDED');
    } finally {
      agent.behaviour = 'succeed';
    }
  });

  it('refuses a sync into a busy target (409 naming the operation) and one from or into a site being deleted', async () => {
    agent.behaviour = 'hang';
    try {
      await call(`${V1}/sites/stage`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Stage two' } } } });
      await phaseOf('sites', 'stage', 'DEPLOYING');
      expect((await refused('contentsyncs', run('ContentSync', 'into-busy', 'prod', 'stage'), 409)).message).toContain('a deploy is in progress');
      agent.finishHanging();
      await phaseOf('sites', 'stage', 'ACTIVE');
    } finally {
      agent.behaviour = 'succeed';
    }
    await activeSite('stage-gone', 'staging');
    agent.behaviour = 'hang';
    try {
      expect((await call(`${V1}/sites/stage-gone`, { method: 'DELETE' })).status).toBe(202);
      await until('the pre-delete backup hanging', () => (hostCalls('stage-gone').some((c) => c.operation === 'backup') ? true : undefined));
      expect((await refused('contentsyncs', run('ContentSync', 'into-deleted', 'prod', 'stage-gone'), 409)).message).toContain('site stage-gone is being deleted');
    } finally {
      agent.finishHanging();
      agent.behaviour = 'succeed';
    }
  });

  it('refuses a Restore of only some parts into a site that does not exist (it would have no code)', async () => {
    const restore = { apiVersion: 'pressluft.io/v1', kind: 'Restore', metadata: { name: 'no-code' }, spec: { backup: 'down-source', site: 'brand-new', parts: ['database'], domains: ['new.example.test'] } };
    const response = await call<Status>(`${V1}/restores`, { method: 'POST', body: restore });
    expect(response.status).toBe(422);
    expect(response.body.details?.causes?.[0]?.field).toBe('spec.parts');
    expect(await get('restores', 'no-code')).toBeUndefined();
  });
});
