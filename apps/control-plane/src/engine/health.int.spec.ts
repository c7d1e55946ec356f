import { api, TestAgent } from '@pressluft/e2e-harness';
import type { NodeServiceHealth, SiteHealth } from '@pressluft/proto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';

const V1 = '/apis/pressluft.io/v1';
const NODE = 'health-a';
const SITE = 'vital';
type Condition = { type: string; status: string; reason: string; message: string };
type Obj = { metadata: { resourceVersion: string }; status: { phase?: string; conditions?: Condition[]; health?: Record<string, unknown> } };
type Event = { type: string; reason: string; message: string; firstTimestamp: string };

const served = (over: Partial<SiteHealth> = {}): SiteHealth => ({
  name: SITE,
  state: 'SERVING',
  reason: '',
  message: '',
  httpStatus: 200,
  probeSeconds: 0.012,
  processUp: true,
  restarts: 0,
  crashLooping: false,
  lastExit: '',
  ...over,
});
const service = (name: string, up: boolean, over: Partial<NodeServiceHealth> = {}): NodeServiceHealth => ({ name, up, message: '', restarts: 0, crashLooping: false, ...over });
const SERVICES_UP = [service('nginx', true), service('mariadb', true)];

describe('health ingest: NodeHealth snapshots on the real NATS server and PostgreSQL', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent | undefined;
  /** Snapshot times, strictly increasing (an older one is skipped). */
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const call = <T = Obj>(path: string) => api<T>(fx.plane.httpUrl, path, { token: fx.adminToken });
  const post = (path: string, body: unknown) => api(fx.plane.httpUrl, path, { token: fx.adminToken, method: 'POST', body });

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify((await call(`${V1}/sites/${SITE}`)).body).slice(0, 1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const site = async () => (await call(`${V1}/sites/${SITE}`)).body;
  const node = async () => (await call(`${V1}/nodes/${NODE}`)).body;
  const condition = (o: Obj, type: string) => {
    const c = o.status.conditions?.find((x) => x.type === type);
    return c && { status: c.status, reason: c.reason, message: c.message };
  };
  const metrics = async () => (await fetch(`${fx.plane.httpUrl}/metrics`)).text();
  const events = async (involved: string, reasons: readonly string[]) =>
    (await call<{ items: Event[] }>(`${V1}/events?involvedObject=${involved}`)).body.items
      .filter((e) => reasons.includes(e.reason))
      .map((e) => ({ at: Date.parse(e.firstTimestamp), text: `${e.type} ${e.reason}: ${e.message}` }))
      // Events of one transaction share their time: those in the order of their text.
      .sort((a, b) => a.at - b.at || a.text.localeCompare(b.text))
      .map((e) => e.text);
  const at = () => new Date((clock += 1000)).toISOString();
  /**
   * Publishes a snapshot until `probe` holds. Idempotent: the same snapshot again changes
   * nothing; sending it more than once makes the test independent of other control planes on
   * the run-wide NATS server that may take an event from the shared consumer.
   */
  async function applied<T>(what: string, snapshot: { sites: SiteHealth[]; services: NodeServiceHealth[] }, probe: () => Promise<T | undefined>): Promise<T> {
    const time = at();
    let last = 0;
    return until(what, async () => {
      if (Date.now() - last > 1000) {
        last = Date.now();
        await agent!.sendHealth({ at: time, ...snapshot });
      }
      return probe();
    });
  }
  /** A snapshot changing only what /metrics shows (nginx's restart count): once it shows, everything published before was ingested. */
  let marks = 0;
  async function marker(sites: SiteHealth[]): Promise<void> {
    marks += 1;
    const expected = `pressluft_node_service_restarts{node="${NODE}",service="nginx"} ${marks}`;
    await applied('marker', { sites, services: [service('nginx', true, { restarts: marks }), service('mariadb', true)] }, async () => ((await metrics()).includes(expected) ? true : undefined));
  }

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ engine: true, env: { PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '3000', PRESSLUFT_RESYNC_MS: '1000' } });
    expect((await post(`${V1}/nodes`, { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: NODE }, spec: { provider: 'static' } })).status).toBe(201);
    agent = await TestAgent.start(inject('services').nats.url, NODE, { heartbeatMs: 300 });
    const base = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8')) as { spec: Record<string, unknown> };
    const manifest = { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name: SITE }, spec: { ...base.spec, nodeName: NODE, domains: [`${SITE}.example.test`] } };
    expect((await post(`${V1}/sites`, manifest)).status).toBe(201);
    await until('site ACTIVE and Ready', async () => {
      const s = await site();
      return s.status.phase === 'ACTIVE' && condition(s, 'Ready')?.status === 'True' ? true : undefined;
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await fx?.stop();
  });

  it('serving: status.health is served, node service conditions and metrics appear, Ready untouched', async () => {
    const s = await applied('health stored', { sites: [served()], services: SERVICES_UP }, async () => {
      const current = await site();
      return current.status.health?.['state'] === 'SERVING' ? current : undefined;
    });
    expect(s.status.health).toEqual({ state: 'SERVING', httpStatus: 200, processUp: true, restarts: 0, crashLooping: false, observedAt: new Date(clock).toISOString() });
    expect(condition(s, 'Ready')?.status).toBe('True');
    expect(condition(s, 'CrashLooping')).toBeUndefined();
    const n = await node();
    expect([condition(n, 'NginxReady'), condition(n, 'MariaDBReady'), condition(n, 'RedisReady')]).toEqual([
      { status: 'True', reason: 'Running', message: `nginx runs on node ${NODE}` },
      { status: 'True', reason: 'Running', message: `mariadb runs on node ${NODE}` },
      undefined,
    ]);
    expect(condition(n, 'Ready')).toMatchObject({ status: 'True', reason: 'HeartbeatReceived' });
    const text = await metrics();
    expect(text).toContain(`pressluft_site_up{node="${NODE}",site="${SITE}"} 1`);
    expect(text).toContain(`pressluft_site_probe_seconds{node="${NODE}",site="${SITE}"} 0.012`);
    expect(text).toContain(`pressluft_site_fpm_restarts{node="${NODE}",site="${SITE}"} 0`);
    expect(text).toContain(`pressluft_site_crash_looping{node="${NODE}",site="${SITE}"} 0`);
    expect(text).toContain(`pressluft_node_service_up{node="${NODE}",service="mariadb"} 1`);
    expect(text).not.toContain('service="redis"');
  });

  it('a periodic snapshot that says the same (another probe latency) writes nothing', async () => {
    const before = (await site()).metadata.resourceVersion;
    await marker([served({ probeSeconds: 0.5 })]);
    expect(await metrics()).toContain(`pressluft_site_probe_seconds{node="${NODE}",site="${SITE}"} 0.5`);
    expect((await site()).metadata.resourceVersion).toBe(before);
    expect(condition(await node(), 'NginxReady')).toEqual({ status: 'True', reason: 'Running', message: `nginx runs on node ${NODE}` });
  });

  it('not serving (500) with nginx down: Ready False NotServing, NginxReady False, Warnings; the planner issues nothing', async () => {
    const issued = agent!.received.length;
    const s = await applied(
      'NotServing',
      { sites: [served({ state: 'NOT_SERVING', reason: 'HttpStatus', message: 'GET / answered 500', httpStatus: 500 })], services: [service('nginx', false, { message: 'nginx.service inactive' }), service('mariadb', true)] },
      async () => {
        const current = await site();
        return condition(current, 'Ready')?.reason === 'NotServing' && condition(await node(), 'NginxReady')?.status === 'False' ? current : undefined;
      },
    );
    expect(condition(s, 'Ready')).toEqual({ status: 'False', reason: 'NotServing', message: `on node ${NODE}: GET / answered 500` });
    expect(condition(await node(), 'NginxReady')).toEqual({ status: 'False', reason: 'ServiceDown', message: `nginx on node ${NODE} is down: nginx.service inactive` });
    expect(condition(await node(), 'Ready')?.status).toBe('True');
    expect(await events(`sites/${SITE}`, ['NotServing'])).toEqual([`Warning NotServing: on node ${NODE}: GET / answered 500`]);
    expect(await events(`nodes/${NODE}`, ['ServiceDown'])).toEqual([`Warning ServiceDown: nginx on node ${NODE} is down: nginx.service inactive`]);
    const text = await metrics();
    expect(text).toContain(`pressluft_site_up{node="${NODE}",site="${SITE}"} 0`);
    expect(text).toContain(`pressluft_node_service_up{node="${NODE}",service="nginx"} 0`);
    // Resyncs (every second here) reconcile the site: Ready stays NotServing and no command is issued.
    await new Promise((r) => setTimeout(r, 2500));
    expect(condition(await site(), 'Ready')?.reason).toBe('NotServing');
    expect(agent!.received.length).toBe(issued);
  });

  it('a deploy that succeeds while the node still says NOT_SERVING leaves Ready NotServing (one rule for Ready)', async () => {
    const patched = await api(fx.plane.httpUrl, `${V1}/sites/${SITE}`, { token: fx.adminToken, method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Vital Two' } } } });
    expect(patched.status).toBe(200);
    const deployed = await until('generation 2 converged', async () => {
      const current = (await call<Obj & { status: { observedGeneration?: number } }>(`${V1}/sites/${SITE}`)).body;
      return current.status.observedGeneration === 2 && current.status.phase === 'ACTIVE' ? current : undefined;
    });
    expect(agent!.received.at(-1)?.command.payload?.$case).toBe('deploySite');
    expect(condition(deployed, 'Ready')).toEqual({ status: 'False', reason: 'NotServing', message: `on node ${NODE}: GET / answered 500` });
    expect(await events(`sites/${SITE}`, ['NotServing'])).toHaveLength(1);
  });

  it('a crash loop: CrashLooping True, a Restarted Warning naming how the master ended', async () => {
    const looping = served({ state: 'NOT_SERVING', reason: 'ProcessDown', message: 'PHP-FPM master is not running', httpStatus: 502, processUp: false, restarts: 3, crashLooping: true, lastExit: 'killed by SIGKILL' });
    const s = await applied('CrashLooping', { sites: [looping], services: SERVICES_UP }, async () => {
      const current = await site();
      return condition(current, 'CrashLooping')?.status === 'True' ? current : undefined;
    });
    expect(condition(s, 'CrashLooping')).toEqual({
      status: 'True',
      reason: 'CrashLoopBackOff',
      message: `PHP-FPM master of the site on node ${NODE} keeps exiting (last exit: killed by SIGKILL; 3 restarts): the agent restarts it after a growing backoff`,
    });
    expect(condition(s, 'Ready')).toEqual({ status: 'False', reason: 'NotServing', message: `on node ${NODE}: PHP-FPM master is not running` });
    expect(await events(`sites/${SITE}`, ['CrashLooping', 'Restarted'])).toEqual([
      `Warning CrashLooping: PHP-FPM master of the site on node ${NODE} keeps exiting (last exit: killed by SIGKILL; 3 restarts): the agent restarts it after a growing backoff`,
      `Warning Restarted: PHP-FPM master of the site restarted by the agent on ${NODE} (killed by SIGKILL; restart 3)`,
    ]);
    expect(await events(`nodes/${NODE}`, ['ServiceRecovered'])).toEqual([`Normal ServiceRecovered: nginx on node ${NODE} runs again`]);
    const text = await metrics();
    expect(text).toContain(`pressluft_site_crash_looping{node="${NODE}",site="${SITE}"} 1`);
    expect(text).toContain(`pressluft_site_fpm_restarts{node="${NODE}",site="${SITE}"} 3`);
  });

  it('ignores an older snapshot and one whose body names another node', async () => {
    const before = (await site()).metadata.resourceVersion;
    await agent!.sendHealth({ at: new Date(clock - 60_000).toISOString(), sites: [served()], services: SERVICES_UP });
    await agent!.sendHealth({ node: 'someone-else', at: at(), sites: [served()], services: SERVICES_UP });
    const looping = served({ state: 'NOT_SERVING', reason: 'ProcessDown', message: 'PHP-FPM master is not running', httpStatus: 502, processUp: false, restarts: 3, crashLooping: true, lastExit: 'killed by SIGKILL' });
    await marker([looping]);
    expect((await site()).metadata.resourceVersion).toBe(before);
  });

  it('healed: Ready True (Serving), CrashLooping False (Stable) with Normal events; an agent restart (count 0) is no restart', async () => {
    const s = await applied('Serving', { sites: [served({ restarts: 3 })], services: SERVICES_UP }, async () => {
      const current = await site();
      return condition(current, 'Ready')?.status === 'True' ? current : undefined;
    });
    expect(condition(s, 'Ready')).toEqual({ status: 'True', reason: 'Serving', message: `serving on node ${NODE}` });
    expect(condition(s, 'CrashLooping')).toEqual({ status: 'False', reason: 'Stable', message: `PHP-FPM master of the site on node ${NODE} runs stable again` });
    expect(await events(`sites/${SITE}`, ['Serving', 'Stable'])).toEqual([`Normal Serving: the site serves again on node ${NODE}`, `Normal Stable: PHP-FPM master of the site on node ${NODE} runs stable again`]);

    await applied('restarts reset', { sites: [served({ restarts: 0 })], services: SERVICES_UP }, async () => ((await site()).status.health?.['restarts'] === 0 ? true : undefined));
    expect(await events(`sites/${SITE}`, ['Restarted'])).toHaveLength(1);
    // The converged pass keeps Serving (it says the same): no rewrite to Converged.
    await new Promise((r) => setTimeout(r, 1500));
    expect(condition(await site(), 'Ready')?.reason).toBe('Serving');
  });

  it('NOT_SERVING during a deploy sets no condition; the deploy completing makes the site NotServing with a Warning', async () => {
    agent!.behaviour = 'ignore';
    try {
      const patched = await api(fx.plane.httpUrl, `${V1}/sites/${SITE}`, { token: fx.adminToken, method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Vital Three' } } } });
      expect(patched.status).toBe(200);
      const deploy = await until('the deploy taken', () => Promise.resolve(agent!.received.find((r) => r.command.ref?.site === SITE && r.command.generation === 3)?.command));
      const notServing = served({ state: 'NOT_SERVING', reason: 'Unreachable', message: 'GET / timed out after 5 s', httpStatus: 0 });
      const s = await applied('health stored while DEPLOYING', { sites: [notServing], services: SERVICES_UP }, async () => {
        const current = await site();
        return current.status.health?.['state'] === 'NOT_SERVING' ? current : undefined;
      });
      expect(s.status.phase).toBe('DEPLOYING');
      expect(condition(s, 'Ready')).toEqual({ status: 'True', reason: 'Serving', message: `serving on node ${NODE}` });

      await agent!.sendEvent(deploy, 1, { $case: 'accepted', value: {} });
      await agent!.sendEvent(deploy, 2, { $case: 'succeeded', value: { message: 'deployed', site: undefined } });
      const done = await until('generation 3 ACTIVE', async () => {
        const current = (await call<Obj & { status: { observedGeneration?: number } }>(`${V1}/sites/${SITE}`)).body;
        return current.status.observedGeneration === 3 && current.status.phase === 'ACTIVE' ? current : undefined;
      });
      expect(condition(done, 'Ready')).toEqual({ status: 'False', reason: 'NotServing', message: `on node ${NODE}: GET / timed out after 5 s` });
      expect(await events(`sites/${SITE}`, ['NotServing'])).toEqual([`Warning NotServing: on node ${NODE}: GET / answered 500`, `Warning NotServing: on node ${NODE}: GET / timed out after 5 s`]);
    } finally {
      agent!.behaviour = 'succeed';
    }
  });

  it('drops the series of a site that is no longer in the snapshot, and of a service no longer listed', async () => {
    await marker([]);
    // The node-report series (the fleet gauges read from the database may still name the site: it exists).
    const reported = (await metrics()).split('\n').filter((line) => /^pressluft_site_(up|probe_seconds|fpm_restarts|crash_looping)\{/.test(line));
    expect(reported.filter((line) => line.includes(`site="${SITE}"`))).toEqual([]);
    await applied('redis listed', { sites: [], services: [...SERVICES_UP, service('redis', true)] }, async () => (condition(await node(), 'RedisReady')?.status === 'True' ? true : undefined));
    expect(await metrics()).toContain(`pressluft_node_service_up{node="${NODE}",service="redis"} 1`);
    await marker([]);
    expect(await metrics()).not.toContain('service="redis"');
    expect(condition(await node(), 'RedisReady')).toBeUndefined();
  });
});
