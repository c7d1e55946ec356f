import { until, V1, type TestAgent } from '@pressluft/e2e-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { resourceApi, siteManifest, startEngineWithAgent } from '../../test/resource-api.js';

describe('a clone (spec.source.clone) with a test agent on the real NATS server', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent;
  const { call, get, reasons, phaseOf } = resourceApi(() => fx);
  const create = (body: Record<string, unknown>) => call(`${V1}/sites`, { method: 'POST', body });

  beforeAll(async () => {
    ({ fx, agent } = await startEngineWithAgent());
  });

  afterAll(async () => {
    await agent?.stop();
    await fx?.stop();
  });

  it('backs the source up, then sends one CloneSite with its snapshots and domains; the clone goes CLONING then ACTIVE', async () => {
    expect((await create(siteManifest('cl-src'))).status).toBe(201);
    await phaseOf('sites', 'cl-src', 'ACTIVE');
    const before = agent.hostCalls.length;
    const made = await create(siteManifest('cl-copy', { environment: 'staging', source: { clone: { site: 'cl-src' } } }));
    expect(made.status, made.text).toBe(201);
    const copy = await phaseOf('sites', 'cl-copy', 'ACTIVE');
    const backupName = `cl-copy-clone-${copy.metadata.uid.replace(/-/g, '').slice(0, 8)}`;
    expect(copy.status['clone']).toMatchObject({ backup: backupName, completedAt: expect.any(String) });
    const backup = (await get('backups', backupName))!;
    expect(backup.spec).toMatchObject({ site: 'cl-src', reason: 'clone-source' });
    expect(backup.metadata.labels).toMatchObject({ 'pressluft.io/clone-for': 'cl-copy', 'pressluft.io/site': 'cl-src' });
    expect(backup.status.phase).toBe('SUCCEEDED');
    // The source is only backed up; the clone is provisioned and restored by one command.
    expect(agent.hostCalls.slice(before).map((c) => `${c.operation}:${c.site}`)).toEqual(['backup:cl-src', 'clone:cl-copy']);
    const command = (await get('commands', `cl-copy-${String(copy.status['fence'])}`))!;
    expect(command.spec).toMatchObject({ operation: 'CloneSite', backup: backupName, store: 'local' });
    const events = await reasons('sites/cl-copy');
    expect(events, events.join()).toEqual(expect.arrayContaining(['CloneSourceBackup', 'CommandIssued', 'CommandSucceeded']));
    expect((await get('sites', 'cl-src'))!.status.phase).toBe('ACTIVE');
  });

  it('refuses a clone of a missing site (422), a source being deleted (409) and a change of spec.source (422)', async () => {
    const missing = await create(siteManifest('cl-none', { source: { clone: { site: 'no-such-site' } } }));
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('spec.source.clone.site');
    expect(await get('sites', 'cl-none')).toBeUndefined();
    const change = await call(`${V1}/sites/cl-copy`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { source: { clone: { site: 'cl-other' } } } } });
    expect(change.status).toBe(422);
    expect(change.text).toContain('spec.source');
    agent.behaviour = 'hang';
    expect((await create(siteManifest('cl-going'))).status).toBe(201);
    agent.finishHanging();
    agent.behaviour = 'succeed';
    await phaseOf('sites', 'cl-going', 'ACTIVE');
    agent.behaviour = 'hang';
    expect((await call(`${V1}/sites/cl-going`, { method: 'DELETE' })).status).toBe(202);
    const refused = await create(siteManifest('cl-late', { source: { clone: { site: 'cl-going' } } }));
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('deletion');
    agent.finishHanging();
    agent.behaviour = 'succeed';
  });

  it("a failed clone is not retried by itself; an operator's retry sends the same source backup again", async () => {
    expect((await create(siteManifest('cl-retry-src'))).status).toBe(201);
    await phaseOf('sites', 'cl-retry-src', 'ACTIVE');
    agent.behaviour = 'hang';
    expect((await create(siteManifest('cl-retry', { source: { clone: { site: 'cl-retry-src' } } }))).status).toBe(201);
    await until('the source backup hanging', () => (agent.hostCalls.some((c) => c.site === 'cl-retry-src' && c.operation === 'backup') ? true : undefined));
    agent.finishHanging();
    agent.behaviour = 'fail';
    const failed = await phaseOf('sites', 'cl-retry', 'FAILED');
    const command = `cl-retry-${String(failed.status['fence'])}`;
    expect((await get('commands', command))?.spec).toMatchObject({ operation: 'CloneSite' });
    agent.behaviour = 'succeed';
    const retried = await call<{ metadata: { name: string } }>(`${V1}/commands/${command}/retry`, { method: 'POST' });
    expect(retried.status, retried.text).toBe(201);
    const again = (await get('commands', retried.body.metadata.name))!;
    expect(again.spec).toMatchObject({ operation: 'CloneSite', backup: (failed.status['clone'] as { backup: string }).backup });
    await phaseOf('sites', 'cl-retry', 'ACTIVE');
    expect(agent.hostCalls.filter((c) => c.site === 'cl-retry').map((c) => c.operation)).toEqual(['clone', 'clone']);
  });
});
