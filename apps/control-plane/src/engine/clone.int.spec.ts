import { api, TestAgent } from '@pressluft/e2e-harness';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';

const V1 = '/apis/pressluft.io/v1';
type Condition = { type: string; status: string; reason: string; message: string };
type Obj = {
  metadata: { name: string; uid: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
  status: Record<string, unknown> & { phase?: string; message?: string; conditions?: Condition[] };
};

function siteManifest(name: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  const base = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  return { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name }, spec: { ...base.spec, nodeName: 'node-a', domains: [`${name}.example.test`], ...more } };
}

describe('a clone (spec.source.clone) with a test agent on the real NATS server', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent;
  const call = <T = Obj>(path: string, options: Parameters<typeof api>[2] = {}) => api<T>(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
  const get = async (plural: string, name: string): Promise<Obj | undefined> => {
    const response = await call(`${V1}/${plural}/${name}`);
    return response.status === 200 ? response.body : undefined;
  };
  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const phaseOf = (plural: string, name: string, phase: string) =>
    until(`${plural}/${name} ${phase}`, async () => {
      const object = await get(plural, name);
      return object?.status.phase === phase ? object : undefined;
    });
  const create = (body: Record<string, unknown>) => call(`${V1}/sites`, { method: 'POST', body });

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ engine: true, env: { PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '3000', PRESSLUFT_STALL_WINDOW_MS: '30000', PRESSLUFT_RESYNC_MS: '5000' } });
    expect((await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'node-a' }, spec: { provider: 'static' } } })).status).toBe(201);
    agent = await TestAgent.start(inject('services').nats.url, 'node-a', { heartbeatMs: 300 });
    await until('node Ready', async () => ((await get('nodes', 'node-a'))?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined));
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
    const events = (await call<{ items: { reason: string }[] }>(`${V1}/events?involvedObject=sites/cl-copy`)).body.items.map((e) => e.reason);
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
});
