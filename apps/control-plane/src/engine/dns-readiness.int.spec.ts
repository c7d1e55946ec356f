import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { api, TestAgent } from '@pressluft/e2e-harness';
import { freePort, PebbleService } from '@pressluft/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { DnsReadinessReconciler } from './dns-readiness.reconciler.js';

/*
 * DNS readiness against a real DNS server (Pebble's challtestsrv): the node's public address
 * comes from its agent's NodeReport, the site's domains are resolved through
 * PRESSLUFT_DNS_SERVERS, and status.dns and DNSReady say whether they point at the node.
 */

const V1 = '/apis/pressluft.io/v1';
const NODE = 'dns-a';
const SITE = 'pointed';
const ADDRESS = '203.0.113.10';
const ELSEWHERE = '198.51.100.7';
const DOMAINS = ['pointed.example.test', 'www.pointed.example.test'];
type Condition = { type: string; status: string; reason: string; message: string };
type Site = {
  metadata: { resourceVersion: string };
  status: { phase?: string; conditions?: Condition[]; dns?: { expected: string[]; domains: Array<{ name: string; addresses: string[]; ready: boolean }>; checkedAt: string } };
};

describe('DNS readiness (real DNS server)', () => {
  let fx: ControlPlaneFixture;
  let pebble: PebbleService | undefined;
  let agent: TestAgent | undefined;
  let dir: string;
  const call = <T = Site>(path: string) => api<T>(fx.plane.httpUrl, path, { token: fx.adminToken });
  const post = (path: string, body: unknown) => api(fx.plane.httpUrl, path, { token: fx.adminToken, method: 'POST', body });
  const site = async () => (await call(`${V1}/sites/${SITE}`)).body;
  const dnsReady = (s: Site) => s.status.conditions?.find((c) => c.type === 'DNSReady');

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await site()).slice(0, 1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pressluft-dns-'));
    pebble = await PebbleService.start(dir, { httpPort: await freePort() });
    for (const domain of DOMAINS) await pebble.setAddresses(domain, [ADDRESS]);
    fx = await startControlPlaneFixture({ engine: true, env: { PRESSLUFT_DNS_SERVERS: pebble.dnsServer } });
    expect((await post(`${V1}/nodes`, { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: NODE }, spec: { provider: 'static' } })).status).toBe(201);
    agent = await TestAgent.start(inject('services').nats.url, NODE, { heartbeatMs: 300 });
    const base = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8')) as { spec: Record<string, unknown> };
    expect((await post(`${V1}/sites`, { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name: SITE }, spec: { ...base.spec, nodeName: NODE, domains: DOMAINS } })).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await fx?.stop();
    await pebble?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a bound site on a node without a known address: DNSReady False NoNodeAddress', async () => {
    const s = await until('DNSReady', async () => {
      const current = await site();
      return dnsReady(current) ? current : undefined;
    });
    expect(dnsReady(s)).toMatchObject({ status: 'False', reason: 'NoNodeAddress' });
    expect(s.status.dns).toMatchObject({ expected: [], domains: DOMAINS.map((name) => ({ name, addresses: [ADDRESS], ready: false })) });
  });

  it("the node's reported address arrives: every domain points at it, DNSReady True Resolved", async () => {
    let last = 0;
    const s = await until('DNSReady True', async () => {
      // Resent until it shows: another control plane on the run-wide NATS server may take one.
      if (Date.now() - last > 1000) {
        last = Date.now();
        await agent!.sendReport([], { publicAddresses: [ADDRESS] });
      }
      const current = await site();
      return dnsReady(current)?.status === 'True' ? current : undefined;
    });
    expect(dnsReady(s)).toMatchObject({ reason: 'Resolved', message: `every domain points at ${ADDRESS}` });
    expect(s.status.dns).toMatchObject({ expected: [ADDRESS], domains: DOMAINS.map((name) => ({ name, addresses: [ADDRESS], ready: true })) });
    expect((await call<{ status: { addresses?: string[] } }>(`${V1}/nodes/${NODE}`)).body.status.addresses).toEqual([ADDRESS]);

    // A pass that finds the same writes nothing.
    expect(await fx.plane.app.get(DnsReadinessReconciler).reconcile(SITE)).toEqual({ requeueAfterMs: 600_000 });
    expect((await site()).metadata.resourceVersion).toBe(s.metadata.resourceVersion);
  });

  it('one domain pointed elsewhere: DNSReady False NotPointingAtNode naming the domain and the address it must point at', async () => {
    await pebble!.setAddresses(DOMAINS[1] ?? '', [ELSEWHERE]);
    // The pass its requeue would run (10 minutes after a ready one), now.
    expect(await fx.plane.app.get(DnsReadinessReconciler).reconcile(SITE)).toEqual({ requeueAfterMs: 30_000 });
    const s = await site();
    expect(dnsReady(s)).toMatchObject({ status: 'False', reason: 'NotPointingAtNode', message: `must point only at ${ADDRESS}: ${DOMAINS[1] ?? ''} (now ${ELSEWHERE})` });
    expect(s.status.dns?.domains).toEqual([
      { name: DOMAINS[0], addresses: [ADDRESS], ready: true },
      { name: DOMAINS[1], addresses: [ELSEWHERE], ready: false },
    ]);
  });
});
