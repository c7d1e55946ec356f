import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { api, TestAgent, until, V1 } from '@pressluft/e2e-harness';
import { parse as parseYaml } from 'yaml';
import { expect, inject } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from './control-plane.fixture.js';

export type Condition = { type: string; status: string; reason: string; message: string };
export type Obj = {
  metadata: { name: string; uid: string; generation: number; labels: Record<string, string> };
  spec: Record<string, unknown> & { code?: { git: { url: string; ref: string } } };
  status: Record<string, unknown> & { phase?: string; message?: string; currentCommit?: string; conditions?: Condition[] };
};
export type Event = { type: string; reason: string; message: string };

/** The API as the engine's integration tests use it, as the fixture's admin: read, create, wait for a phase, list an object's Events. */
export function resourceApi(fx: () => ControlPlaneFixture) {
  const call = <T = Obj>(path: string, options: Parameters<typeof api>[2] = {}) => api<T>(fx().plane.httpUrl, path, { token: fx().adminToken, ...options });
  const get = async (plural: string, name: string): Promise<Obj | undefined> => {
    const response = await call(`${V1}/${plural}/${name}`);
    return response.status === 200 ? response.body : undefined;
  };
  const events = async (involved: string): Promise<Event[]> => (await call<{ items: Event[] }>(`${V1}/events?involvedObject=${involved}`)).body.items;
  const phaseOf = (plural: string, name: string, phase: string) =>
    until(`${plural}/${name} ${phase}`, async () => {
      const object = await get(plural, name);
      return object?.status.phase === phase ? object : undefined;
    });
  const create = async (plural: string, body: Record<string, unknown>) => {
    const response = await call(`${V1}/${plural}`, { method: 'POST', body });
    expect(response.status, response.text).toBe(201);
  };
  const reasons = async (involved: string): Promise<string[]> => (await events(involved)).map((e) => e.reason);
  return { call, get, events, reasons, phaseOf, create };
}

/** A control plane with its engine and a Ready node `node-a` served by a TestAgent on the run's NATS server. */
export async function startEngineWithAgent(env: Record<string, string> = {}): Promise<{ fx: ControlPlaneFixture; agent: TestAgent }> {
  const fx = await startControlPlaneFixture({
    engine: true,
    env: { PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '3000', PRESSLUFT_STALL_WINDOW_MS: '30000', PRESSLUFT_RESYNC_MS: '5000', ...env },
  });
  const { call, get } = resourceApi(() => fx);
  expect((await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'node-a' }, spec: { provider: 'static' } } })).status).toBe(201);
  const agent = await TestAgent.start(inject('services').nats.url, 'node-a', { heartbeatMs: 300 });
  await until('node Ready', async () => ((await get('nodes', 'node-a'))?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined));
  return { fx, agent };
}

/** examples/site.yaml on `node-a` with a domain of its own, and `more` over its spec. */
export function siteManifest(name: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  const base = parseYaml(readFileSync(resolve(__dirname, '../../../examples/site.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  return { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name }, spec: { ...base.spec, nodeName: 'node-a', domains: [`${name}.example.test`], ...more } };
}
