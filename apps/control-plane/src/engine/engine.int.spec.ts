import { api, changeCommittedWithAudit, TestAgent } from '@pressluft/e2e-harness';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pgQuery } from '@pressluft/testing';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { OutboxRelay } from './outbox.relay.js';

const V1 = '/apis/pressluft.io/v1';
type Obj = {
  metadata: { name: string; generation: number; finalizers: string[]; resourceVersion: string };
  spec: Record<string, unknown>;
  status: { phase?: string; observedGeneration?: number; nodeName?: string; fence?: number; state?: string; conditions?: Array<{ type: string; status: string; reason: string }>; log?: string[] };
};

function siteManifest(name: string, node: string): Record<string, unknown> {
  const base = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  return { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name }, spec: { ...base.spec, nodeName: node, domains: [`${name}.example.test`] } };
}

describe('reconcile engine with a test agent on the real NATS server', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent | undefined;
  const call = <T = Obj>(path: string, options: Parameters<typeof api>[2] = {}) => api<T>(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify((await call(`${V1}/sites?limit=50`)).body).slice(0, 1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const site = (name: string) => call(`${V1}/sites/${name}`).then((r) => (r.status === 200 ? r.body : undefined));

  beforeAll(async () => {
    fx = await startControlPlaneFixture({
      engine: true,
      env: { PRESSLUFT_LEASE_TTL_MS: '3000', PRESSLUFT_LEASE_RENEW_MS: '300', PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '3000', PRESSLUFT_STALL_WINDOW_MS: '2000', PRESSLUFT_RESYNC_MS: '5000' },
    });
    expect((await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'node-a' }, spec: { provider: 'static' } } })).status).toBe(201);
    agent = await TestAgent.start(inject('services').nats.url, 'node-a', { heartbeatMs: 300 });
  });

  afterAll(async () => {
    await agent?.stop();
    await fx?.stop();
  });

  it('marks a heartbeating node Ready', async () => {
    const node = await until('node Ready', async () => {
      const body = (await call(`${V1}/nodes/node-a`)).body;
      return body.status.conditions?.find((c) => c.type === 'Ready' && c.status === 'True') ? body : undefined;
    });
    expect(node.status.phase).toBe('READY');
  });

  it('provisions a new site: finalizer, ProvisionSite on the bus, ACTIVE and Ready', async () => {
    expect((await call(`${V1}/sites`, { method: 'POST', body: siteManifest('alpha', 'node-a') })).status).toBe(201);
    const active = await until('alpha ACTIVE', async () => {
      const s = await site('alpha');
      return s?.status.phase === 'ACTIVE' ? s : undefined;
    });
    expect(active.metadata.finalizers).toContain('pressluft.io/site-cleanup');
    expect(active.status).toMatchObject({ nodeName: 'node-a', fence: 1, observedGeneration: 1 });
    expect(active.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    const provision = agent!.received.find((r) => r.command.ref?.site === 'alpha');
    expect(provision?.command.payload?.$case).toBe('provisionSite');
    expect(provision?.verdict).toBe('apply');
    const commands = await call<{ items: Obj[] }>(`${V1}/commands?site=alpha`);
    expect(commands.body.items.map((c) => [c.metadata.name, c.status.state])).toEqual([['alpha-1', 'SUCCEEDED']]);
    expect(commands.body.items[0]?.status.log).toEqual(['converge (50%)']);
  });

  it("counts a node's bound sites in its status and SITES column (get, list, table) as sites are bound and deleted", async () => {
    type Node = { status: { sites?: number } };
    type Table = { rows: Array<{ cells: unknown[] }>; columnDefinitions: Array<{ name: string }> };
    const counts = async () => {
      const one = (await call<Node>(`${V1}/nodes/node-a`)).body.status.sites;
      const listed = (await call<{ items: Array<Node & { metadata: { name: string } }> }>(`${V1}/nodes`)).body.items.find((n) => n.metadata.name === 'node-a')?.status.sites;
      const table = (await call<Table>(`${V1}/nodes/node-a`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).body;
      const column = table.columnDefinitions.findIndex((c) => c.name === 'SITES');
      return [one, listed, table.rows[0]?.cells[column]];
    };
    const bound = async () => (await call<{ items: Obj[] }>(`${V1}/sites`)).body.items.filter((s) => s.status.nodeName === 'node-a').length;
    const before = await bound();
    expect(before).toBeGreaterThanOrEqual(1);
    expect(await counts()).toEqual([before, before, before]);

    expect((await call(`${V1}/sites`, { method: 'POST', body: siteManifest('counted', 'node-a') })).status).toBe(201);
    await until('counted bound', async () => ((await site('counted'))?.status.nodeName === 'node-a' ? true : undefined));
    expect(await counts()).toEqual([before + 1, before + 1, before + 1]);

    expect((await call(`${V1}/sites/counted`, { method: 'DELETE' })).status).toBe(202);
    await until('counted gone', async () => ((await call(`${V1}/sites/counted`)).status === 404 ? true : undefined));
    expect(await counts()).toEqual([before, before, before]);
  });

  it('deploys a spec change (generation 2) and deletes behind the finalizer', async () => {
    await call(`${V1}/sites/alpha`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Alpha Two' } } } });
    const deployed = await until('alpha generation 2 converged', async () => {
      const s = await site('alpha');
      return s?.status.observedGeneration === 2 && s.status.phase === 'ACTIVE' ? s : undefined;
    });
    expect(deployed.status.fence).toBe(2);
    expect(agent!.received.filter((r) => r.command.ref?.site === 'alpha').map((r) => r.command.payload?.$case)).toEqual(['provisionSite', 'deploySite']);

    expect((await call(`${V1}/sites/alpha`, { method: 'DELETE' })).status).toBe(202);
    await until('alpha gone', async () => ((await call(`${V1}/sites/alpha`)).status === 404 ? true : undefined));
    // The mandatory pre-delete backup first.
    expect(agent!.received.filter((r) => r.command.ref?.site === 'alpha').map((r) => r.command.payload?.$case)).toEqual(['provisionSite', 'deploySite', 'backupSite', 'deleteSite']);
  });

  it('marks a silent running command STALLED with a Warning, and the site Stalled=True', async () => {
    agent!.behaviour = 'hang';
    try {
      await call(`${V1}/sites`, { method: 'POST', body: siteManifest('beta', 'node-a') });
      const stalled = await until('beta Stalled', async () => {
        const s = await site('beta');
        return s?.status.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True') ? s : undefined;
      });
      expect(stalled.status.phase).toBe('PROVISIONING');
      const command = (await call<{ items: Obj[] }>(`${V1}/commands?site=beta`)).body.items[0];
      expect(command?.status.state).toBe('STALLED');
      const events = await call<{ items: Array<{ type: string; reason: string }> }>(`${V1}/events?involvedObject=sites/beta`);
      expect(events.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Warning', reason: 'CommandStalled' })]));
    } finally {
      agent!.behaviour = 'succeed';
    }
  });

  it('lets an operator retry the stalled command (next fence), and the site converges', async () => {
    const viewer = await fx.token('viewer', 'vic');
    expect((await api(fx.plane.httpUrl, `${V1}/commands/beta-1/retry`, { method: 'POST', token: viewer })).status).toBe(403);
    const retried = await call(`${V1}/commands/beta-1/retry`, { method: 'POST' });
    expect(retried.status).toBe(201);
    expect(retried.body.metadata.name).toBe('beta-2');
    const active = await until('beta ACTIVE', async () => {
      const s = await site('beta');
      return s?.status.phase === 'ACTIVE' ? s : undefined;
    });
    expect(active.status.fence).toBe(2);
    expect(active.status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'False' });
    const commands = (await call<{ items: Obj[] }>(`${V1}/commands?site=beta`)).body.items;
    expect(commands.map((c) => [c.metadata.name, c.status.state])).toEqual([
      ['beta-1', 'FAILED'],
      ['beta-2', 'SUCCEEDED'],
    ]);
    expect((await call(`${V1}/commands/beta-2/retry`, { method: 'POST' })).status).toBe(409);
  });

  it('lets an operator abandon a stalled command: the site shows FAILED, nothing is retried by itself', async () => {
    agent!.behaviour = 'hang';
    try {
      await call(`${V1}/sites`, { method: 'POST', body: siteManifest('delta', 'node-a') });
      await until('delta-1 STALLED', async () => ((await call(`${V1}/commands/delta-1`)).body.status?.state === 'STALLED' ? true : undefined));
      expect((await call(`${V1}/commands/delta-1/abandon`, { method: 'POST' })).status).toBe(200);
      const failed = await until('delta FAILED', async () => {
        const s = await site('delta');
        return s?.status.phase === 'FAILED' ? s : undefined;
      });
      expect(failed.status.fence).toBe(1);
      expect(agent!.received.filter((r) => r.command.ref?.site === 'delta')).toHaveLength(1);
    } finally {
      agent!.behaviour = 'succeed';
    }
  });

  it('lets an operator retry the command of a FAILED site: the site goes back to work and ends ACTIVE', async () => {
    const retried = await call(`${V1}/commands/delta-1/retry`, { method: 'POST' });
    expect(retried.status).toBe(201);
    const active = await until('delta ACTIVE', async () => {
      const s = await site('delta');
      return s?.status.phase === 'ACTIVE' ? s : undefined;
    });
    expect(active.status.fence).toBe(2);
    expect(active.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
  });

  it('while a site is DEPLOYING: a conflicting change gets 409 naming the deploy, a spec change is queued by generation', async () => {
    await call(`${V1}/sites`, { method: 'POST', body: siteManifest('epsilon', 'node-a') });
    await until('epsilon ACTIVE', async () => ((await site('epsilon'))?.status.phase === 'ACTIVE' ? true : undefined));
    agent!.behaviour = 'hang';
    try {
      await call(`${V1}/sites/epsilon`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Epsilon Two' } } } });
      await until('epsilon DEPLOYING', async () => ((await site('epsilon'))?.status.phase === 'DEPLOYING' ? true : undefined));
      const before = (await site('epsilon'))!;
      const moved = await call<{ reason: string; message: string }>(`${V1}/sites/epsilon`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { environment: 'staging' } } });
      expect(moved.status).toBe(409);
      expect(moved.body.reason).toBe('Conflict');
      expect(moved.body.message).toContain('a deploy is in progress');
      // The refused change changed nothing (status may move meanwhile: the engine is running).
      const after = await site('epsilon');
      expect({ generation: after?.metadata.generation, spec: after?.spec }).toEqual({ generation: before.metadata.generation, spec: before.spec });
      const queued = await call(`${V1}/sites/epsilon`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Epsilon Three' } } } });
      expect(queued.status).toBe(200);
      expect(queued.body.metadata.generation).toBe(3);
      expect((await call(`${V1}/commands/epsilon-2/abandon`, { method: 'POST' })).status).toBe(409); // still running
      await until('epsilon-2 STALLED', async () => ((await call(`${V1}/commands/epsilon-2`)).body.status?.state === 'STALLED' ? true : undefined));
      expect((await call(`${V1}/commands/epsilon-2/abandon`, { method: 'POST' })).status).toBe(200);
    } finally {
      agent!.behaviour = 'succeed';
    }
  });

  it('refuses a rollback clearly and changes nothing: unknown site, bad release, viewer, nothing to roll back to', async () => {
    const viewer = await fx.token('viewer', 'val');
    await call(`${V1}/sites`, { method: 'POST', body: siteManifest('zeta', 'node-a') });
    const zeta = await until('zeta ACTIVE', async () => {
      const s = await site('zeta');
      return s?.status.phase === 'ACTIVE' ? s : undefined;
    });
    expect((await call(`${V1}/sites/nope/rollback`, { method: 'POST' })).status).toBe(404);
    expect((await api(fx.plane.httpUrl, `${V1}/sites/zeta/rollback`, { method: 'POST', token: viewer })).status).toBe(403);
    const bad = await call<{ details: { causes: Array<{ field: string }> } }>(`${V1}/sites/zeta/rollback`, { method: 'POST', body: { release: '../etc' } });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes.map((c) => c.field)).toEqual(['release']);
    expect((await call(`${V1}/sites/zeta/rollback`, { method: 'POST', body: { release: '20261129T101500Z', force: true } })).status).toBe(400);
    const nothing = await call<{ message: string }>(`${V1}/sites/zeta/rollback`, { method: 'POST' });
    expect(nothing.status).toBe(409);
    expect(nothing.body.message).toMatch(/no release before/);
    // No command was issued (the fence is where it was); status may still move: the engine runs.
    const after = await site('zeta');
    expect({ fence: after?.status.fence, generation: after?.metadata.generation, spec: after?.spec }).toEqual({ fence: zeta.status.fence, generation: zeta.metadata.generation, spec: zeta.spec });
  });

  it('rotates credentials on demand beside the ACTIVE site and records when; refuses a viewer and a busy site', async () => {
    const viewer = await fx.token('viewer', 'vera');
    expect((await api(fx.plane.httpUrl, `${V1}/sites/zeta/rotate-credentials`, { method: 'POST', token: viewer })).status).toBe(403);
    expect((await call(`${V1}/sites/nope/rotate-credentials`, { method: 'POST' })).status).toBe(404);
    agent!.behaviour = 'hang';
    try {
      const issued = await call(`${V1}/sites/zeta/rotate-credentials`, { method: 'POST' });
      expect(issued.status).toBe(201);
      expect(issued.body.spec['operation']).toBe('RotateCredentials');
      expect(await changeCommittedWithAudit(fx.database.url, issued)).toBe(true);
      expect((await site('zeta'))?.status.phase).toBe('ACTIVE');
      const busy = await call<{ message: string }>(`${V1}/sites/zeta/rotate-credentials`, { method: 'POST' });
      expect(busy.status).toBe(409);
      expect(busy.body.message).toMatch(/RotateCredentials/);
      const name = issued.body.metadata.name;
      await until(`${name} STALLED`, async () => ((await call(`${V1}/commands/${name}`)).body.status?.state === 'STALLED' ? true : undefined));
      agent!.behaviour = 'succeed';
      const retried = await call(`${V1}/commands/${name}/retry`, { method: 'POST' });
      expect(retried.status).toBe(201);
      expect(await changeCommittedWithAudit(fx.database.url, retried)).toBe(true);
    } finally {
      agent!.behaviour = 'succeed';
    }
    const rotated = await until('zeta credentialsRotatedAt', async () => {
      const s = await site('zeta');
      return (s?.status as { credentialsRotatedAt?: string } | undefined)?.credentialsRotatedAt ? s : undefined;
    });
    expect(rotated.status.phase).toBe('ACTIVE');
  });

  it('ingests each (command, sequence) once and rejects an older fence on the node', async () => {
    await call(`${V1}/sites`, { method: 'POST', body: siteManifest('gamma', 'node-a') });
    await until('gamma ACTIVE', async () => ((await site('gamma'))?.status.phase === 'ACTIVE' ? true : undefined));
    const first = agent!.received.find((r) => r.command.ref?.site === 'gamma')?.command;
    if (!first) throw new Error('no command for gamma');
    const before = (await call<{ items: Obj[] }>(`${V1}/commands?site=gamma`)).body.items[0];
    // Replayed events (same sequences) change nothing.
    await agent!.sendEvent(first, 2, { $case: 'progress', value: { step: 'replayed', percent: 99, bytes: 0, files: 0 } });
    await agent!.sendEvent(first, 3, { $case: 'failed', value: { reason: 'Replayed', message: 'must be ignored', retryAfterSeconds: 0 } });
    await new Promise((r) => setTimeout(r, 1000));
    const after = (await call<{ items: Obj[] }>(`${V1}/commands?site=gamma`)).body.items[0];
    expect(after?.status).toEqual(before?.status);
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it('attack: node C sends events about node A\'s command (C\'s identity, A\'s sequence numbers first): dropped without a receipt, A\'s own events are applied', async () => {
    expect((await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'node-c' }, spec: { provider: 'static' } } })).status).toBe(201);
    const intruder = await TestAgent.start(inject('services').nats.url, 'node-c', { heartbeatMs: 60_000 });
    agent!.behaviour = 'ignore';
    try {
      await call(`${V1}/sites`, { method: 'POST', body: siteManifest('lambda', 'node-a') });
      const command = await until('lambda-1 taken by node-a', () => Promise.resolve(agent!.received.find((r) => r.command.ref?.site === 'lambda')?.command));
      if (!command.ref) throw new Error('lambda-1 has no ref');
      // On C's own subject: naming A in the event as the command does, and naming C.
      await intruder.sendEvent(command, 1, { $case: 'accepted', value: {} });
      await intruder.sendEvent(command, 2, { $case: 'failed', value: { reason: 'Forged', message: 'from node-c', retryAfterSeconds: 0 } });
      await intruder.sendEvent({ ...command, ref: { ...command.ref, node: 'node-c' } }, 3, { $case: 'failed', value: { reason: 'Forged', message: 'from node-c', retryAfterSeconds: 0 } });
      await new Promise((r) => setTimeout(r, 1500));
      expect((await pgQuery(fx.database.url, `SELECT sequence::int AS sequence FROM command_event_receipts WHERE command = 'lambda-1'`)).rows).toEqual([]);
      expect(['DISPATCHED', 'STALLED']).toContain((await call(`${V1}/commands/lambda-1`)).body.status.state);
      // The owner's events, with the sequence numbers C tried to take, are applied.
      await agent!.sendEvent(command, 1, { $case: 'accepted', value: {} });
      await agent!.sendEvent(command, 2, { $case: 'succeeded', value: { message: 'done by node-a' } });
      const done = await until('lambda-1 SUCCEEDED', async () => {
        const current = (await call(`${V1}/commands/lambda-1`)).body;
        return current.status.state === 'SUCCEEDED' ? current : undefined;
      });
      expect((done.status as { message?: string }).message).toBe('done by node-a');
      expect((await pgQuery(fx.database.url, `SELECT sequence::int AS sequence FROM command_event_receipts WHERE command = 'lambda-1' ORDER BY sequence`)).rows).toEqual([{ sequence: 1 }, { sequence: 2 }]);
    } finally {
      agent!.behaviour = 'succeed';
      await intruder.stop();
    }
  });

  it('shows a command on the bus that the node has not answered as DISPATCHED, and stalls it after the window', async () => {
    agent!.behaviour = 'ignore';
    try {
      await call(`${V1}/sites`, { method: 'POST', body: siteManifest('eta', 'node-a') });
      const dispatched = await until('eta-1 DISPATCHED', async () => {
        const command = (await call<{ items: Obj[] }>(`${V1}/commands?site=eta`)).body.items[0];
        return command?.status.state === 'DISPATCHED' ? command : undefined;
      });
      const dispatchedAt = Date.parse(String((dispatched.status as { dispatchedAt?: string }).dispatchedAt));
      expect(Math.abs(Date.now() - dispatchedAt)).toBeLessThan(10_000);
      expect(agent!.received.filter((r) => r.command.ref?.site === 'eta').map((r) => r.command.ref?.fence)).toEqual([1]);
      // Nothing but dispatchedAt speaks for it: the stall detector judges it by that alone.
      const stalled = await until('eta-1 STALLED', async () => {
        const command = (await call<{ items: Obj[] }>(`${V1}/commands?site=eta`)).body.items[0];
        return command?.status.state === 'STALLED' ? command : undefined;
      });
      expect(stalled.status).toMatchObject({ dispatchedAt: (dispatched.status as { dispatchedAt?: string }).dispatchedAt, log: [] });
      expect(stalled.status).not.toHaveProperty('startedAt');
    } finally {
      agent!.behaviour = 'succeed';
    }
  });

  it('marks a command that an older version published but left PENDING as DISPATCHED (when it was sent) once the relay starts, so it can stall', async () => {
    agent!.behaviour = 'ignore';
    try {
      await call(`${V1}/sites`, { method: 'POST', body: siteManifest('kappa', 'node-a') });
      await until('kappa-1 DISPATCHED', async () => ((await call(`${V1}/commands/kappa-1`)).body.status.state === 'DISPATCHED' ? true : undefined));
    } finally {
      agent!.behaviour = 'succeed';
    }
    // What a command sent before DISPATCHED existed looks like: PENDING, its outbox row sent an hour ago.
    const relay = fx.plane.app.get(OutboxRelay);
    await relay.stop();
    await pgQuery(fx.database.url, `UPDATE resources SET status = (status - 'dispatchedAt') || '{"state": "PENDING"}' WHERE kind = 'Command' AND name = 'kappa-1'`);
    const sent = (await pgQuery(fx.database.url, `UPDATE outbox SET sent_at = now() - interval '1 hour' WHERE command = 'kappa-1' RETURNING sent_at`)).rows[0] as { sent_at: Date };
    relay.start();
    const marked = await until('kappa-1 marked', async () => {
      const command = (await call(`${V1}/commands/kappa-1`)).body;
      return command.status.state !== 'PENDING' ? command : undefined;
    });
    expect((marked.status as { dispatchedAt?: string }).dispatchedAt).toBe(sent.sent_at.toISOString());
    // Sent an hour ago and never answered: the stall detector takes it from there.
    await until('kappa-1 STALLED', async () => ((await call(`${V1}/commands/kappa-1`)).body.status.state === 'STALLED' ? true : undefined));
  });

  it('compares a node report with the fingerprints its last converge applied: Drifted with a Warning, cleared with a Normal event; reports about other nodes\' sites or an older fence say nothing', async () => {
    const digest = (c: string) => c.repeat(64);
    const applied = { 'nginx.serverBlock': digest('a'), wpConfig: digest('b'), 'database.grants': digest('c') };
    const drifted = () =>
      site('theta').then((s) => {
        const condition = s?.status.conditions?.find((c) => c.type === 'Drifted') as { status: string; reason: string; message?: string } | undefined;
        return condition ? { status: condition.status, reason: condition.reason, message: condition.message } : undefined;
      });
    const eventsOf = async () =>
      (await call<{ items: Array<{ type: string; reason: string; message: string; firstTimestamp: string }> }>(`${V1}/events?involvedObject=sites/theta`)).body.items
        .filter((e) => e.reason.startsWith('Drift'))
        .sort((a, b) => Date.parse(a.firstTimestamp) - Date.parse(b.firstTimestamp))
        .map((e) => [e.type, e.reason, e.message]);
    const report = (fingerprints: Record<string, string>, fence = 1) => agent!.sendReport([{ name: 'theta', fence, currentRelease: '', fingerprints, fingerprinted: true, currentCommit: '', deployPublicKey: '' }]);

    // theta on node-a, iota on node-b (an agent of its own), both converged with `applied`.
    expect((await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'node-b' }, spec: { provider: 'static' } } })).status).toBe(201);
    const other = await TestAgent.start(inject('services').nats.url, 'node-b', { heartbeatMs: 300 });
    agent!.fingerprints = applied;
    other.fingerprints = applied;
    try {
      await call(`${V1}/sites`, { method: 'POST', body: siteManifest('theta', 'node-a') });
      await call(`${V1}/sites`, { method: 'POST', body: siteManifest('iota', 'node-b') });
      await until('theta and iota ACTIVE', async () => ((await site('theta'))?.status.phase === 'ACTIVE' && (await site('iota'))?.status.phase === 'ACTIVE' ? true : undefined));
    } finally {
      agent!.fingerprints = undefined;
      await other.stop();
    }
    // What the converge applied is kept beside the site (never in its API object).
    const stored = await pgQuery(fx.database.url, `SELECT site, fence::int AS fence, fingerprints FROM site_fingerprints WHERE site IN ('theta', 'iota') ORDER BY site`);
    expect(stored.rows).toEqual([
      { site: 'iota', fence: 1, fingerprints: applied },
      { site: 'theta', fence: 1, fingerprints: applied },
    ]);
    expect(JSON.stringify((await call(`${V1}/sites/theta`)).body)).not.toContain(digest('a'));

    // No verdict: a report on an older fence, a report whose body names another node than its
    // subject, node-a reporting on node-b's site.
    const changed = { ...applied, 'nginx.serverBlock': digest('d') };
    await report(changed, 0);
    await agent!.sendReport([{ name: 'theta', fence: 1, currentRelease: '', fingerprints: changed, fingerprinted: true, currentCommit: '', deployPublicKey: '' }], { node: 'node-b' });
    await agent!.sendReport([{ name: 'iota', fence: 1, currentRelease: '', fingerprints: changed, fingerprinted: true, currentCommit: '', deployPublicKey: '' }]);
    // A matching report after those, which also says node-a has 3 cores: once node-a shows 3, all of them were ingested (in order).
    await agent!.sendReport([{ name: 'theta', fence: 1, currentRelease: '', fingerprints: applied, fingerprinted: true, currentCommit: '', deployPublicKey: '' }], { cpus: 3 });
    await until('the last report ingested', async () => (((await call(`${V1}/nodes/node-a`)).body.status as { capacity?: { cpu?: number } }).capacity?.cpu === 3 ? true : undefined));
    expect((await drifted())?.status ?? 'False').toBe('False');
    expect((await site('iota'))?.status.conditions?.find((c) => c.type === 'Drifted')?.status ?? 'False').toBe('False');

    await report({ ...applied, 'nginx.serverBlock': digest('d'), 'database.grants': digest('e') });
    const found = await until('theta Drifted', async () => ((await drifted())?.status === 'True' ? drifted() : undefined));
    expect(found).toEqual({ status: 'True', reason: 'DriftDetected', message: 'nginx server block differs; database grants differ' });
    expect(JSON.stringify((await call(`${V1}/sites/theta`)).body)).not.toContain(digest('d'));

    await report(applied);
    await until('theta drift cleared', async () => ((await drifted())?.status === 'False' ? true : undefined));
    expect(await eventsOf()).toEqual([
      ['Warning', 'DriftDetected', 'nginx server block differs; database grants differ'],
      ['Normal', 'DriftCleared', 'the site on node-a matches what was applied again'],
    ]);
  });
});
