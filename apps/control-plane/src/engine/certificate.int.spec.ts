import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { api, TestAgent } from '@pressluft/e2e-harness';
import { setCondition } from '@pressluft/domain';
import type { Command } from '@pressluft/proto';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf } from '../resources/resource.store.js';

const V1 = '/apis/pressluft.io/v1';
const SITE = 'crt-a';
const DIRECTORY = 'https://acme.example.test/directory';
type Condition = { type: string; status: string; reason: string; message: string };
type Installed = { source: string; domains: string[]; fingerprintSha256: string; notAfter: string };
type CertificateStatus = { installed?: Installed; command?: string; failures: number; lastAttemptAt?: string; nextAttemptAt?: string; lastError?: { reason: string; message: string } };
type SiteObj = {
  metadata: { name: string; generation: number };
  spec: Record<string, unknown>;
  status: { phase?: string; observedGeneration?: number; url?: string; conditions?: Condition[]; certificate?: CertificateStatus };
};
type CommandObj = { metadata: { name: string }; spec: { operation: string; certificate?: string }; status: { state: string } };
type Event = { type: string; reason: string; message: string };

function siteManifest(name: string): Record<string, unknown> {
  const base = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  // No backup schedule: the test's clock jumps must not make a scheduled run due.
  const { backup: _backup, ...spec } = base.spec;
  return { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name }, spec: { ...spec, nodeName: 'node-a', domains: [`${name}.example.test`] } };
}

/**
 * The certificate controller with the real control plane (API, engine, outbox, event ingest) and
 * the real agent runtime over the real NATS server; the host is scripted (a made-up 90-day
 * certificate), ACME is configured but never contacted, and the control plane's clock is the
 * test's (real time plus an offset it moves) so backoffs and the one-minute floor can be crossed.
 */
describe('site certificates with a test agent on the real NATS server', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent;
  let offsetMs = 0;
  let touches = 0;
  const call = <T = SiteObj>(path: string, options: Parameters<typeof api>[2] = {}) => api<T>(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
  const site = async (): Promise<SiteObj> => (await call(`${V1}/sites/${SITE}`)).body;
  const condition = (s: SiteObj, type: string) => s.status.conditions?.find((c) => c.type === type);
  const issueCommands = async () => (await call<{ items: CommandObj[] }>(`${V1}/commands?site=${SITE}`)).body.items.filter((c) => c.spec.operation === 'IssueCertificate');
  const events = async (): Promise<Event[]> => (await call<{ items: Event[] }>(`${V1}/events?involvedObject=sites/${SITE}`)).body.items;
  const received = (): Command[] => agent.received.map((r) => r.command).filter((c) => c.ref?.site === SITE && c.payload?.$case === 'issueCertificate');
  const patch = async (body: Record<string, unknown>) => {
    const response = await call(`${V1}/sites/${SITE}`, { method: 'PATCH', contentType: 'application/merge-patch+json', body });
    expect(response.status, response.text).toBe(200);
  };
  /** Any change of the site wakes its controllers (a label: no new generation). */
  const touch = () => patch({ metadata: { labels: { touched: String(++touches) } } });
  const advance = (ms: number) => {
    offsetMs += ms;
  };

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify((await site()).status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const certificateReady = (status: string, reason: string) =>
    until(`CertificateReady ${status} ${reason}`, async () => {
      const s = await site();
      const c = condition(s, 'CertificateReady');
      return c?.status === status && c.reason === reason ? s : undefined;
    });
  /** The newest spec is deployed (the certificate controller waits for that). */
  const deployed = () =>
    until('deployed', async () => {
      const s = await site();
      return s.status.phase === 'ACTIVE' && s.status.observedGeneration === s.metadata.generation && condition(s, 'Reconciling')?.status === 'False' ? s : undefined;
    });
  /** Asserts that no IssueCertificate comes while the site is poked for a while. */
  const noNewIssuance = async (count: number) => {
    await touch();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await issueCommands()).toHaveLength(count);
  };

  beforeAll(async () => {
    fx = await startControlPlaneFixture({
      engine: true,
      env: {
        PRESSLUFT_ACME_DIRECTORY_URL: DIRECTORY,
        PRESSLUFT_ACME_EMAIL: 'ops@example.test',
        PRESSLUFT_SITES_HTTPS_PORT: '8082',
        PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '60000',
        PRESSLUFT_STALL_WINDOW_MS: '3600000',
        PRESSLUFT_RESYNC_MS: '5000',
      },
    });
    const clock = fx.plane.app.get<Clock>(CLOCK);
    const real = clock.now.bind(clock);
    vi.spyOn(clock, 'now').mockImplementation(() => new Date(real().getTime() + offsetMs));
    expect((await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'node-a' }, spec: { provider: 'static' } } })).status).toBe(201);
    agent = await TestAgent.start(inject('services').nats.url, 'node-a', { heartbeatMs: 300 });
    await until('node Ready', async () => ((await call(`${V1}/nodes/node-a`)).body.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined));
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await agent?.stop();
    await fx?.stop();
  });

  it('waits for DNS, then issues an ACME certificate beside the ACTIVE site: installed, Ready, https URL', async () => {
    expect((await call(`${V1}/sites`, { method: 'POST', body: siteManifest(SITE) })).status).toBe(201);
    const waiting = await certificateReady('False', 'WaitingForDNS');
    expect(waiting.status.phase).toBe('ACTIVE');
    expect(condition(waiting, 'CertificateReady')?.message).toContain('do not point at');
    expect(waiting.status.url).toBe(`http://${SITE}.example.test/`);
    await noNewIssuance(0);

    // The DNS controller's finding (another controller's; written here directly).
    const store = fx.plane.app.get(ResourceStore);
    await store.transaction(async (tx) => {
      const current = await tx.get('Site', SITE, { lock: true });
      if (!current) throw new Error('no site');
      const now = fx.plane.app.get<Clock>(CLOCK).now();
      const conditions = setCondition(current.status.conditions, { type: 'DNSReady', status: 'True', reason: 'Resolved', message: 'every domain points at node-a' }, now);
      await tx.update(current, { ...writeOf(current), status: { ...current.status, conditions } }, now);
    });

    const ready = await certificateReady('True', 'Issued');
    expect(ready.status.phase).toBe('ACTIVE');
    expect(ready.status.certificate).toMatchObject({ installed: { source: 'acme', domains: [`${SITE}.example.test`] }, failures: 0 });
    expect(ready.status.certificate?.command).toBeUndefined();
    expect(ready.status.url).toBe(`https://${SITE}.example.test:8082/`);
    const [command] = await issueCommands();
    expect(command?.spec.certificate).toBe('acme');
    const payload = received()[0]?.payload;
    expect(payload?.$case === 'issueCertificate' && payload.value.source).toEqual({
      $case: 'acme',
      value: { directoryUrl: DIRECTORY, email: 'ops@example.test', domains: [`${SITE}.example.test`], challenge: 'http-01', dnsProvider: '', dnsZone: '' },
    });
    expect(payload?.$case === 'issueCertificate' && payload.value.site?.tls).toEqual({ mode: 'acme', redirect: true, hstsMaxAgeSeconds: 0, hstsIncludeSubdomains: false, hstsPreload: false });
    expect((await events()).map((e) => e.reason)).toContain('CertificateIssued');
    // Settled: nothing more is issued.
    await noNewIssuance(1);
  });

  it('reissues for changed domains after the deploy (never within a minute of the last attempt)', async () => {
    await patch({ spec: { domains: [`${SITE}.example.test`, `www.${SITE}.example.test`] } });
    await deployed();
    await noNewIssuance(1);
    advance(61_000);
    await touch();
    const reissued = await until('two domains', async () => {
      const s = await site();
      return s.status.certificate?.installed?.domains.length === 2 ? s : undefined;
    });
    expect(condition(reissued, 'CertificateReady')).toMatchObject({ status: 'True', reason: 'Issued' });
    expect(await issueCommands()).toHaveLength(2);
    const deploy = agent.received.map((r) => r.command.payload).filter((p) => p?.$case === 'deploySite').at(-1);
    expect(deploy?.$case === 'deploySite' && deploy.value.site?.domains).toEqual([`${SITE}.example.test`, `www.${SITE}.example.test`]);
  });

  it('records a failure with its reason and respects the backoff', async () => {
    await patch({ spec: { domains: [`${SITE}.example.test`, `www.${SITE}.example.test`, `shop.${SITE}.example.test`] } });
    await deployed();
    agent.behaviour = 'fail';
    advance(61_000);
    await touch();
    const failed = await until('a failure', async () => {
      const s = await site();
      return s.status.certificate?.failures === 1 ? s : undefined;
    });
    agent.behaviour = 'succeed';
    expect(condition(failed, 'CertificateReady')).toMatchObject({ status: 'False', reason: 'CertificateFailed' });
    expect(failed.status.certificate?.lastError?.message).toContain('the scripted host was told to fail');
    const { lastAttemptAt, nextAttemptAt } = failed.status.certificate ?? {};
    expect(Date.parse(nextAttemptAt ?? '') - Date.parse(lastAttemptAt ?? '')).toBeGreaterThanOrEqual(60_000);
    // The old certificate still serves the two domains it has.
    expect(failed.status.certificate?.installed?.domains).toHaveLength(2);
    expect((await events()).find((e) => e.reason === 'CertificateFailed')?.type).toBe('Warning');
    await noNewIssuance(3);
  });

  it('backs off for at least an hour after a rate limit', async () => {
    agent.behaviour = 'ignore';
    advance(5 * 60_000);
    await touch();
    const command = await until('the next IssueCertificate', () => Promise.resolve(received()[3]));
    agent.behaviour = 'succeed';
    await agent.sendEvent(command, 1, { $case: 'failed', value: { reason: 'AcmeRateLimited', message: 'urn:ietf:params:acme:error:rateLimited: too many certificates', retryAfterSeconds: 600 } });
    const limited = await until('the rate limit', async () => {
      const s = await site();
      return s.status.certificate?.failures === 2 ? s : undefined;
    });
    expect(condition(limited, 'CertificateReady')).toMatchObject({ status: 'False', reason: 'AcmeRateLimited' });
    expect(condition(limited, 'CertificateReady')?.message).toContain('too many certificates');
    const { lastAttemptAt, nextAttemptAt } = limited.status.certificate ?? {};
    expect(Date.parse(nextAttemptAt ?? '') - Date.parse(lastAttemptAt ?? '')).toBeGreaterThanOrEqual(3_600_000);
    advance(30 * 60_000);
    await noNewIssuance(4);
  });

  it('removes the certificate when TLS is turned off: back to http', async () => {
    const before = (await site()).metadata.generation;
    await patch({ spec: { tls: { mode: 'off' } } });
    const after = await deployed();
    // A TLS change is a spec change like any other: a new generation, deployed with its TlsConfig.
    expect(after.metadata.generation).toBe(before + 1);
    const deploy = agent.received.map((r) => r.command.payload).filter((p) => p?.$case === 'deploySite').at(-1);
    expect(deploy?.$case === 'deploySite' && deploy.value.site?.tls?.mode).toBe('off');
    expect(after.status.url).toBe(`http://${SITE}.example.test/`);
    // One backoff per site: the rate limit's hour also holds the removal.
    advance(31 * 60_000);
    await touch();
    const removed = await until('removed', async () => {
      const s = await site();
      return s.status.certificate && !s.status.certificate.installed && !s.status.certificate.command ? s : undefined;
    });
    expect(condition(removed, 'CertificateReady')).toMatchObject({ status: 'False', reason: 'Disabled' });
    expect(removed.status.url).toBe(`http://${SITE}.example.test/`);
    expect((await issueCommands()).find((c) => c.metadata.name === received()[4]?.ref?.id)?.spec.certificate).toBe('remove');
    expect((await events()).map((e) => e.reason)).toContain('CertificateRemoved');
    await noNewIssuance(5);
  });

  it('sends a custom certificate with the spec chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pressluft-cert-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '30', '-subj', `/CN=${SITE}.example.test`], { stdio: 'ignore' });
      const pem = readFileSync(join(dir, 'cert.pem'), 'utf8');
      advance(61_000);
      // Its key is a write-only credential (a custom certificate without one is refused: 422).
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      await patch({ spec: { tls: { mode: 'custom', custom: { certificate: pem } }, credentials: { tlsPrivateKey: key }, cache: { page: { enabled: false } } } });
      await deployed();
      const deploy = agent.received.map((r) => r.command.payload).filter((p) => p?.$case === 'deploySite').at(-1);
      expect(deploy?.$case === 'deploySite' && deploy.value.site?.cache?.page).toEqual({ enabled: false, sizeMib: 256, ttlSeconds: 600 });
      await touch();
      const command = await until('IssueCertificate custom', () => Promise.resolve(received()[5]));
      expect(command.payload?.$case === 'issueCertificate' && command.payload.value.source).toEqual({ $case: 'custom', value: { certificatePem: pem } });
      expect((await issueCommands()).find((c) => c.metadata.name === command.ref?.id)?.spec.certificate).toBe('custom');
      // This test agent does not fetch the key (NodeService.SiteSecretAccess has its own spec): its reason is recorded.
      const failed = await until('the custom failure', async () => {
        const s = await site();
        return s.status.certificate?.failures === 1 ? s : undefined;
      });
      expect(condition(failed, 'CertificateReady')).toMatchObject({ status: 'False', reason: 'SiteSecretUnavailable' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
