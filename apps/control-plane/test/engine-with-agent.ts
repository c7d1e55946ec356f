import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { api, TestAgent, until, V1 } from '@pressluft/e2e-harness';
import { parse as parseYaml } from 'yaml';
import { expect } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from './control-plane.fixture.js';

type Condition = { type: string; status: string; reason: string; message: string };
/** A resource as these tests read it. */
export type Obj = {
  metadata: { name: string; uid: string; generation: number; labels: Record<string, string> };
  spec: Record<string, unknown> & { code?: { git: { url: string; ref: string } } };
  status: Record<string, unknown> & { phase?: string; message?: string; currentCommit?: string; conditions?: Condition[] };
};

/** The control plane with its engine and one Ready node served by a TestAgent (ScriptedHost) on the real NATS server. */
export interface EngineWithAgent {
  readonly fx: ControlPlaneFixture;
  readonly agent: TestAgent;
  call<T = Obj>(path: string, options?: Parameters<typeof api>[2]): ReturnType<typeof api<T>>;
  get(plural: string, name: string): Promise<Obj | undefined>;
  /** Waits until the object is in `phase`. */
  phaseOf(plural: string, name: string, phase: string): Promise<Obj>;
  /** POSTs the object and expects 201. */
  create(plural: string, body: Record<string, unknown>): Promise<void>;
  reasons(involved: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startEngineWithAgent(natsUrl: string, node = 'node-a'): Promise<EngineWithAgent> {
  const fx = await startControlPlaneFixture({ engine: true, env: { PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '3000', PRESSLUFT_STALL_WINDOW_MS: '30000', PRESSLUFT_RESYNC_MS: '5000' } });
  const call = <T = Obj>(path: string, options: Parameters<typeof api>[2] = {}) => api<T>(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
  const get = async (plural: string, name: string): Promise<Obj | undefined> => {
    const response = await call(`${V1}/${plural}/${name}`);
    return response.status === 200 ? response.body : undefined;
  };
  expect((await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: node }, spec: { provider: 'static' } } })).status).toBe(201);
  const agent = await TestAgent.start(natsUrl, node, { heartbeatMs: 300 });
  await until('node Ready', async () => ((await get('nodes', node))?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined));
  return {
    fx,
    agent,
    call,
    get,
    phaseOf: (plural, name, phase) =>
      until(`${plural}/${name} ${phase}`, async () => {
        const object = await get(plural, name);
        return object?.status.phase === phase ? object : undefined;
      }),
    create: async (plural, body) => {
      const response = await call(`${V1}/${plural}`, { method: 'POST', body });
      expect(response.status, response.text).toBe(201);
    },
    reasons: async (involved) => (await call<{ items: { reason: string }[] }>(`${V1}/events?involvedObject=${involved}`)).body.items.map((e) => e.reason),
    stop: async () => {
      await agent.stop();
      await fx.stop();
    },
  };
}

/** examples/site.yaml on `node-a` with a domain of its own, and `more` over its spec. */
export function siteManifest(name: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  const base = parseYaml(readFileSync(resolve(__dirname, '../../../examples/site.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  return { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name }, spec: { ...base.spec, nodeName: 'node-a', domains: [`${name}.example.test`], ...more } };
}
