import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TestAgent, until, V1 } from '@pressluft/e2e-harness';
import { eventSubject } from '@pressluft/platform';
import { Heartbeat, NodeReport } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { resourceApi, siteManifest } from '../../test/resource-api.js';

// Names of this spec's own: the run's NATS server is shared with specs that run node-a beside it.
const A = 'place-a';
const B = 'place-b';
const C = 'place-c';

describe('placement: three nodes on the real bus, sites without spec.nodeName', () => {
  let fx: ControlPlaneFixture;
  const agents: TestAgent[] = [];
  let nc: NatsConnection;
  let pulse: NodeJS.Timeout;
  /** The load each node's heartbeat reports; a node not here sends none (it goes NotReady). */
  const loads = new Map<string, number>();
  /**
   * The cores each node reports. Sent with every heartbeat: a test agent reports this machine's
   * after each command it runs, and the next pulse puts the test's back.
   */
  const cores = new Map<string, number>([[A, 8], [B, 8], [C, 8]]);
  const { call, get, events, phaseOf } = resourceApi(() => fx);

  /** A node committed no further than it reports (overcommit 1), so its capacity edges are exact. */
  const node = async (name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) => {
    const made = await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name, labels }, spec: { provider: 'static', overcommit: { cpu: 1, memory: 1 }, ...spec } } });
    expect(made.status, made.text).toBe(201);
  };
  const patchNode = async (name: string, spec: Record<string, unknown>) => {
    const patched = await call(`${V1}/nodes/${name}`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec } });
    expect(patched.status, patched.text).toBe(200);
  };
  const nodeStatus = async (name: string) => (await get('nodes', name))?.status ?? {};
  const ready = async (name: string) => (await nodeStatus(name)).conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  /** Sets the nodes' loads and waits until the control plane has them. */
  const setLoads = async (wanted: Record<string, number>) => {
    for (const [name, load] of Object.entries(wanted)) loads.set(name, load);
    for (const [name, load] of Object.entries(wanted)) await until(`${name} load ${load}`, async () => ((await nodeStatus(name)).load === load && (await ready(name)) ? true : undefined));
  };
  /** Sets the cores a node reports (with 16Gi) and waits until the Node shows them. */
  const setCores = async (name: string, cpus: number) => {
    cores.set(name, cpus);
    await until(`${name} capacity ${cpus}`, async () => ((await nodeStatus(name)).capacity as { cpu?: number } | undefined)?.cpu === cpus || undefined);
  };
  /** A site for the scheduler: examples/site.yaml without spec.nodeName, one core. */
  const createSite = async (name: string, more: Record<string, unknown> = {}) => {
    const { spec, ...rest } = siteManifest(name, { resources: { cpu: '100%', memory: '512Mi' }, ...more }) as { spec: Record<string, unknown> };
    const { nodeName: _pinned, ...unpinned } = spec;
    const made = await call(`${V1}/sites`, { method: 'POST', body: { ...rest, spec: unpinned } });
    expect(made.status, made.text).toBe(201);
  };
  const boundTo = (site: string) =>
    until(`${site} bound`, async () => {
      const nodeName = (await get('sites', site))?.status['nodeName'];
      return typeof nodeName === 'string' ? nodeName : undefined;
    });
  /** Until every site named is ACTIVE: no command runs on their nodes, so no agent reports this machine's capacity. */
  const settled = async (...sites: string[]) => {
    for (const site of sites) await phaseOf('sites', site, 'ACTIVE');
  };
  const reconciling = async (site: string) => (await get('sites', site))?.status.conditions?.find((c) => c.type === 'Reconciling');

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ engine: true, env: { PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '3000', PRESSLUFT_STALL_WINDOW_MS: '30000', PRESSLUFT_RESYNC_MS: '5000' } });
    await node(A, { labels: { tier: 'web' } });
    await node(B, {}, { disk: 'ssd' });
    await node(C, { labels: { tier: 'db' } });
    const nats = inject('services').nats.url;
    // The agents' own heartbeats carry this machine's load (the same for all three): the test sends the ones that count.
    for (const name of [A, B, C]) agents.push(await TestAgent.start(nats, name, { heartbeatMs: 3_600_000 }));
    nc = await connect({ servers: nats, name: 'placement-spec-heartbeats' });
    pulse = setInterval(() => {
      for (const [name, load] of loads) {
        const at = new Date().toISOString();
        const heartbeat = Heartbeat.encode({ node: name, sentAt: at, load, agentVersion: 'test-agent/1' }).finish();
        const report = NodeReport.encode({ node: name, at, load, agentVersion: 'test-agent/1', cpus: cores.get(name) ?? 8, memoryBytes: 16 * 1024 ** 3, sites: [], versions: {}, publicAddresses: [] }).finish();
        void jetstream(nc).publish(eventSubject(name, 'heartbeat'), heartbeat).catch(() => undefined);
        void jetstream(nc).publish(eventSubject(name, 'report'), report).catch(() => undefined);
      }
    }, 300);
  });

  afterAll(async () => {
    clearInterval(pulse);
    await nc?.close();
    for (const agent of agents) await agent.stop();
    await fx?.stop();
  });

  it('refuses a malformed node selector with a 422 naming the field, and creates nothing', async () => {
    const { spec, ...rest } = siteManifest('pl-bad', { placement: { nodeSelector: { 'not a label': 'web' } } }) as { spec: Record<string, unknown> };
    const refused = await call(`${V1}/sites`, { method: 'POST', body: { ...rest, spec } });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('spec.placement.nodeSelector[not a label]');
    expect(await get('sites', 'pl-bad')).toBeUndefined();
  });

  it('binds each new site to the least loaded node, following the load', async () => {
    await setLoads({ [A]: 0.9, [B]: 0.1, [C]: 0.5 });
    await createSite('pl-1');
    expect(await boundTo('pl-1')).toBe(B);
    expect((await events('sites/pl-1')).map((e) => e.message)).toContain(`bound to node ${B}`);
    await setLoads({ [A]: 0.2, [B]: 0.8, [C]: 0.6 });
    await createSite('pl-2');
    expect(await boundTo('pl-2')).toBe(A);
  });

  it('gives a cordoned node no new site (its sites stay)', async () => {
    await patchNode(A, { unschedulable: true });
    await createSite('pl-3');
    expect(await boundTo('pl-3')).toBe(C);
    expect((await get('sites', 'pl-2'))?.status['nodeName']).toBe(A);
    await patchNode(A, { unschedulable: false });
  });

  it('binds a site with a node selector to the node with the labels (metadata.labels or spec.labels), whatever its load', async () => {
    await setLoads({ [A]: 0.1, [B]: 0.9, [C]: 0.5 });
    await createSite('pl-4', { placement: { nodeSelector: { disk: 'ssd' } } });
    expect(await boundTo('pl-4')).toBe(B);
    await createSite('pl-5', { placement: { nodeSelector: { tier: 'db' } } });
    expect(await boundTo('pl-5')).toBe(C);
  });

  it('skips a node without capacity for the site; a site only it could take waits, then binds once it has room', async () => {
    await settled('pl-1', 'pl-2', 'pl-3', 'pl-4', 'pl-5');
    // place-b holds pl-1 and pl-4 (a core each): with two cores it is full.
    await setCores(B, 2);
    await setLoads({ [A]: 0.5, [B]: 0, [C]: 0.9 });
    await createSite('pl-6');
    expect(await boundTo('pl-6')).toBe(A);
    await createSite('pl-7', { placement: { nodeSelector: { disk: 'ssd' } } });
    const message = 'Site pl-7: 0/3 nodes are available: 0 not Ready, 0 unschedulable, 2 do not match the node selector, 1 without capacity';
    await until('pl-7 Unschedulable', async () => ((await reconciling('pl-7'))?.message === message ? true : undefined));
    await setCores(B, 3);
    expect(await boundTo('pl-7')).toBe(B);
  });

  it('keeps a site no node can take PENDING with the reasons in aggregate and one event, and binds it once a node fits', async () => {
    await settled('pl-6', 'pl-7');
    await patchNode(A, { unschedulable: true });
    loads.delete(C);
    await until(`${C} NotReady`, async () => ((await ready(C)) ? undefined : true));
    await createSite('pl-8', { placement: { nodeSelector: { tier: 'web' } } });
    const message = 'Site pl-8: 0/3 nodes are available: 1 not Ready, 1 unschedulable, 1 does not match the node selector, 0 without capacity';
    const condition = await until('pl-8 Unschedulable', async () => {
      const found = await reconciling('pl-8');
      return found?.message === message ? found : undefined;
    });
    expect(condition).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    // Heartbeats keep writing the nodes, and every write looks at the waiting site again: the same verdict is not a new event.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const site = await get('sites', 'pl-8');
    expect(site?.status.phase).toBe('PENDING');
    expect(site?.status['nodeName']).toBeUndefined();
    expect((await events('sites/pl-8')).filter((e) => e.reason === 'FailedScheduling').map((e) => [e.type, e.message])).toEqual([['Warning', message]]);
    await patchNode(A, { unschedulable: false });
    expect(await boundTo('pl-8')).toBe(A);
    await until('pl-8 past PENDING', async () => ((await get('sites', 'pl-8'))?.status.phase !== 'PENDING' ? true : undefined));
  });
});
