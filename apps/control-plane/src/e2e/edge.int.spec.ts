import { chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { until, V1, ControlPlaneProcesses, type ApiObject, NodeStack, type AgentProcess } from '@pressluft/e2e-harness';
import { HARNESS_DIR_PREFIX, httpRequest, httpsRequest, type HttpResult, NginxService, PebbleService, repoRoot, run } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/*
 * Issue 18, end to end on real parts: a real ACME server on loopback (Debian's Pebble, with
 * pebble-challtestsrv as its DNS server answering every test domain with 127.0.0.1, the node's
 * address), the control plane process, a real agent with its own nginx serving HTTP and HTTPS.
 * Certificates live 90 s here (Pebble's certificateValidityPeriod), so the renewal two thirds into
 * the lifetime happens within the test.
 */

const NODE = 'e1';
const SITE = 'edge';
const DOMAINS = ['edge.example.test', 'www.edge.example.test'];
const ADDED = 'shop.edge.example.test';
const OTHER = 'edge2';
const OTHER_DOMAIN = 'edge2.example.test';
const BLOCKED = 'blocked';
const BLOCKED_DOMAIN = 'blocked.example.test';
const ELSEWHERE = 'away';
const ELSEWHERE_DOMAIN = 'away.example.test';
const VALIDITY_SECONDS = 90;
const REPO = repoRoot(__dirname);

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface Installed {
  domains: string[];
  serialNumber: string;
  notAfter: string;
  fingerprintSha256: string;
}

const conditionOf = (site: ApiObject | undefined, type: string): Condition | undefined => (site?.status.conditions as Condition[] | undefined)?.find((c) => c.type === type);
const installedOf = (site: ApiObject | undefined): Installed | undefined => (site?.status as { certificate?: { installed?: Installed } } | undefined)?.certificate?.installed;

describe('HTTPS with ACME certificates, redirects and the page cache (end to end)', () => {
  const services = inject('services');
  let root: string;
  let processes: ControlPlaneProcesses;
  let pebble: PebbleService;
  let nginx: NginxService;
  let stack: NodeStack;
  let agent: AgentProcess;
  let pebbleRoot: string;
  const figures: Record<string, number> = {};

  const http = (domain: string, path = '/', headers: Record<string, string> = {}): Promise<HttpResult> =>
    httpRequest(`http://127.0.0.1:${nginx.port}${path}`, { host: domain, headers, timeoutMs: 5000 }).catch((error: unknown) => ({ status: 0, body: String(error), headers: {} }));
  const https = (domain: string, path = '/', headers: Record<string, string> = {}) => httpsRequest(nginx.tlsPort, path, { servername: domain, ca: pebbleRoot, headers, timeoutMs: 5000 });
  const cacheStatus = (answer: { headers: Record<string, string | string[] | undefined> }) => String(answer.headers['x-pressluft-cache'] ?? '');
  const create = async (body: Record<string, unknown>) => {
    const response = await stack.call(`${V1}/sites`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Site', ...body } });
    expect(response.status, response.text).toBe(201);
    return response.body;
  };
  const site = (name: string, domains: readonly string[], extra: Record<string, unknown> = {}) => ({
    metadata: { name },
    spec: { domains, nodeName: NODE, wordpress: { version: '6.1', title: 'Edge', adminUser: 'admin', adminEmail: 'ops@example.test' }, ...extra },
  });
  const patch = async (name: string, spec: Record<string, unknown>) => {
    const response = await stack.call(`${V1}/sites/${name}`, { method: 'PATCH', body: { spec }, contentType: 'application/merge-patch+json' });
    expect(response.status, response.text).toBe(200);
    return response.body;
  };
  const waitFor = (what: string, name: string, check: (site: ApiObject | undefined) => boolean, timeoutMs = 120_000) =>
    until(what, async () => {
      const current = await stack.site(name);
      return check(current) ? current : undefined;
    }, timeoutMs, async () => `${JSON.stringify(await stack.site(name))}\n${stack.explain()}`);
  /** WP-CLI as the site's own user (what the site's code could do too), against its current release. */
  const wp = async (name: string, args: readonly string[]) => {
    const siteRoot = join(agent.sitesRoot, name);
    const { uid, gid } = statSync(join(siteRoot, 'tmp'));
    const out = await run(['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', '/usr/bin/php', join(REPO, 'tools/wp-cli/wp'), `--path=${join(siteRoot, 'current')}`, ...args], {
      env: { PATH: '/usr/bin:/bin', HOME: join(siteRoot, 'tmp') },
    });
    return out.trim();
  };
  const commandsOf = async (name: string, operation: string) =>
    (await stack.call<{ items: ApiObject[] }>(`${V1}/commands?labelSelector=pressluft.io/site=${name}`)).body.items.filter((c) => (c.spec as { operation?: string }).operation === operation);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), `${HARNESS_DIR_PREFIX}edge-`));
    nginx = await NginxService.create(root);
    pebble = await PebbleService.start(root, { httpPort: nginx.port, certificateValiditySeconds: VALIDITY_SECONDS, blockedDomains: [BLOCKED_DOMAIN] });
    pebbleRoot = await pebble.rootCertificate();
    await pebble.setAddresses(ELSEWHERE_DOMAIN, ['192.0.2.10']);
    processes = await ControlPlaneProcesses.build();
    stack = await NodeStack.start(processes, services, 'edge', {
      env: { PRESSLUFT_ACME_DIRECTORY_URL: pebble.directoryUrl, PRESSLUFT_DNS_SERVERS: pebble.dnsServer, PRESSLUFT_SITES_HTTPS_PORT: String(nginx.tlsPort) },
    });
    agent = await stack.startAgent(NODE, {
      nginx,
      env: {
        NODE_EXTRA_CA_CERTS: pebble.directoryCaFile,
        PRESSLUFT_AGENT_SITES_TLS_LISTEN: `127.0.0.1:${nginx.tlsPort}`,
        PRESSLUFT_AGENT_PUBLIC_ADDRESSES: '127.0.0.1',
        PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL: pebble.challtestsrvUrl,
      },
    });
    await stack.waitNodeReady(NODE, 60_000);
  }, 240_000);

  afterAll(async () => {
    for (const name of [SITE, OTHER, BLOCKED, ELSEWHERE]) {
      if ((await stack?.call(`${V1}/sites/${name}`))?.status === 200) {
        await stack.call(`${V1}/sites/${name}`, { method: 'PATCH', body: { spec: { backup: { skipPreDeleteBackup: true } } }, contentType: 'application/merge-patch+json' }).catch(() => undefined);
        await stack.call(`${V1}/sites/${name}`, { method: 'DELETE' });
        await stack.waitSiteGone(name, 90_000).catch(() => undefined);
      }
    }
    await stack?.stop();
    await processes?.stop();
    await pebble?.stop();
    await nginx?.stop();
    rmSync(root, { recursive: true, force: true });
    console.log(`edge figures: ${JSON.stringify(figures)}`);
  }, 240_000);

  it('a new site gets one certificate for all its domains, serves HTTPS with it, and redirects HTTP only once HTTPS serves', async () => {
    const started = performance.now();
    await create(site(SITE, DOMAINS));
    // Until the certificate is served, HTTP serves the site (never a redirect, never dark); a
    // redirect means HTTPS already answers with the certificate.
    const early: string[] = [];
    let ready: ApiObject | undefined;
    await until('certificate ready', async () => {
      const current = await stack.site(SITE);
      if (conditionOf(current, 'CertificateReady')?.status === 'True') {
        ready = current;
        return true;
      }
      if (current?.status.phase !== 'ACTIVE') return undefined;
      const plain = await http(DOMAINS[0]!);
      if (plain.status !== 301) early.push(String(plain.status));
      else early.push(`301 then https ${(await https(DOMAINS[0]!).catch(() => ({ status: 0 }))).status}`);
      return undefined;
    }, 180_000, async () => `${JSON.stringify(await stack.site(SITE))}\n${stack.explain()}`);
    figures['certificateMs'] = Math.round(performance.now() - started);
    expect(early.length).toBeGreaterThan(0);
    expect(early.filter((answer) => answer !== '200' && answer !== '301 then https 200'), JSON.stringify(early)).toEqual([]);

    const installed = installedOf(ready);
    expect(installed?.domains.sort()).toEqual([...DOMAINS].sort());
    expect(conditionOf(ready, 'DNSReady')?.status).toBe('True');
    expect((ready?.status as { dns?: { expected: string[] } }).dns?.expected).toEqual(['127.0.0.1']);
    for (const domain of DOMAINS) {
      const answer = await https(domain);
      // WordPress sends www to its home (https://edge.example.test/): served over HTTPS all the same.
      if (domain === DOMAINS[0]) expect(answer.status, answer.body.slice(0, 200)).toBe(200);
      else expect([answer.status, answer.headers['location']]).toEqual([301, `https://${DOMAINS[0]!}/`]);
      expect(answer.certificate.subjectAltName).toContain(`DNS:${DOMAINS[0]!}`);
      expect(answer.certificate.subjectAltName).toContain(`DNS:${DOMAINS[1]!}`);
      expect(answer.certificate.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(installed?.fingerprintSha256);
    }
    // HTTP now redirects to the HTTPS port; ACME's own path stays plain HTTP.
    const redirect = await http(DOMAINS[0]!, '/hello/?x=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers['location']).toBe(`https://${DOMAINS[0]!}:${nginx.tlsPort}/hello/?x=1`);
    expect((await http(DOMAINS[0]!, '/.well-known/acme-challenge/nothing-here')).status).toBe(404);
    expect((ready?.status as { url?: string }).url).toBe(`https://${DOMAINS[0]!}:${nginx.tlsPort}/`);
    // WordPress's URLs never carry a port (sites are addressed by Host alone; production serves 443).
    expect(await wp(SITE, ['option', 'get', 'siteurl'])).toBe(`https://${DOMAINS[0]!}`);
    // HTTP/2 is offered; a name no site claims is refused at the handshake.
    expect(await alpn(nginx.tlsPort, DOMAINS[0]!)).toBe('h2');
    await expect(httpsRequest(nginx.tlsPort, '/', { servername: 'nobody.example.test', ca: pebbleRoot, timeoutMs: 5000 })).rejects.toThrow();
  }, 240_000);

  it('adding a domain reissues the certificate for every domain', async () => {
    const before = installedOf(await stack.site(SITE));
    await patch(SITE, { domains: [...DOMAINS, ADDED] });
    const after = installedOf(await waitFor('certificate with the added domain', SITE, (s) => installedOf(s)?.domains.includes(ADDED) === true));
    expect(after?.serialNumber).not.toBe(before?.serialNumber);
    const answer = await https(ADDED);
    expect(answer.status).toBe(200);
    expect(answer.certificate.subjectAltName).toContain(`DNS:${ADDED}`);
  }, 180_000);

  it('the certificate is renewed before it expires without a failed request', async () => {
    const before = installedOf(await stack.site(SITE));
    let requests = 0;
    const failures: string[] = [];
    let looping = true;
    const loop = (async () => {
      while (looping) {
        const answer = await https(DOMAINS[0]!).catch((error: unknown) => ({ status: 0, body: String(error) }));
        requests += 1;
        if (answer.status !== 200) failures.push(`${answer.status} ${answer.body.slice(0, 120)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    let renewed: Installed | undefined;
    try {
      renewed = installedOf(await waitFor('a renewed certificate', SITE, (s) => { const now = installedOf(s); return now !== undefined && now.serialNumber !== before?.serialNumber; }, VALIDITY_SECONDS * 1000 + 60_000));
      // Served at once.
      await until('the renewed certificate served', async () => ((await https(DOMAINS[0]!)).certificate.fingerprint256.replace(/:/g, '').toLowerCase() === renewed?.fingerprintSha256 ? true : undefined), 20_000);
    } finally {
      looping = false;
      await loop;
    }
    figures['requestsDuringRenewal'] = requests;
    expect(Date.parse(renewed!.notAfter)).toBeGreaterThan(Date.parse(before!.notAfter));
    expect(requests).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  }, 240_000);

  it('an ACME failure shows CertificateReady False with the ACME error, is not retried in a tight loop, and the site keeps serving HTTP', async () => {
    await create(site(BLOCKED, [BLOCKED_DOMAIN]));
    const failed = await waitFor('CertificateReady False after an ACME failure', BLOCKED, (s) => conditionOf(s, 'CertificateReady')?.status === 'False' && /Acme/.test(conditionOf(s, 'CertificateReady')?.reason ?? ''), 180_000);
    const condition = conditionOf(failed, 'CertificateReady');
    expect(condition?.message ?? '').toMatch(/blocked|rejected|policy/i);
    expect((await http(BLOCKED_DOMAIN)).status).toBe(200);
    const certificate = (failed?.status as { certificate?: { failures: number; nextAttemptAt?: string } }).certificate;
    expect(certificate?.failures).toBeGreaterThanOrEqual(1);
    expect(Date.parse(certificate?.nextAttemptAt ?? '')).toBeGreaterThan(Date.now() + 20_000);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    expect((await commandsOf(BLOCKED, 'IssueCertificate')).length).toBe(1);
    expect((await http(BLOCKED_DOMAIN)).status).toBe(200);
  }, 240_000);

  it('DNS readiness: a domain that does not point at the node is named, and no certificate is asked for', async () => {
    await create(site(ELSEWHERE, [ELSEWHERE_DOMAIN]));
    const waiting = await waitFor('DNSReady False', ELSEWHERE, (s) => s?.status.phase === 'ACTIVE' && conditionOf(s, 'DNSReady')?.status === 'False', 180_000);
    expect(conditionOf(waiting, 'DNSReady')?.message).toContain(ELSEWHERE_DOMAIN);
    expect(conditionOf(waiting, 'DNSReady')?.message).toContain('127.0.0.1');
    const dns = (waiting?.status as { dns?: { domains: Array<{ name: string; addresses: string[]; ready: boolean }> } }).dns;
    expect(dns?.domains).toEqual([expect.objectContaining({ name: ELSEWHERE_DOMAIN, addresses: ['192.0.2.10'], ready: false })]);
    await waitFor('CertificateReady False WaitingForDNS', ELSEWHERE, (s) => conditionOf(s, 'CertificateReady')?.reason === 'WaitingForDNS', 60_000);
    expect(await commandsOf(ELSEWHERE, 'IssueCertificate')).toEqual([]);
    expect((await http(ELSEWHERE_DOMAIN)).status).toBe(200);
  }, 240_000);

  it('page cache: a second anonymous request is a HIT, a logged-in one never is; a deploy and a published post purge only that site', async () => {
    await create(site(OTHER, [OTHER_DOMAIN], { tls: { mode: 'off' } }));
    await stack.waitSiteReady(OTHER, 120_000);
    const warm = async (request: () => Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>) =>
      until('a cached answer', async () => ((await request()).headers['x-pressluft-cache'] === 'HIT' ? true : undefined), 20_000);
    const page = () => https(DOMAINS[0]!);
    const other = () => http(OTHER_DOMAIN);
    await warm(page);
    await warm(other);
    expect(cacheStatus(await page())).toBe('HIT');

    // Logged in (or any WordPress session cookie): straight to PHP, and never stored.
    const loggedIn = { cookie: 'wordpress_logged_in_0123456789abcdef=admin%7C1%7Cx' };
    const asUser = await https(DOMAINS[0]!, '/', loggedIn);
    expect(cacheStatus(asUser), JSON.stringify({ status: asUser.status, headers: asUser.headers })).toBe('BYPASS');
    expect(cacheStatus(await https(DOMAINS[0]!, '/', loggedIn))).toBe('BYPASS');
    expect(cacheStatus(await https(DOMAINS[0]!, '/?p=1'))).toBe('BYPASS');
    // A POST is not even looked up (nginx caches GET and HEAD only): no cache status at all.
    const posted = await httpsRequest(nginx.tlsPort, '/', { servername: DOMAINS[0]!, ca: pebbleRoot, method: 'POST', body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(posted.status).toBe(200);
    expect(['', 'BYPASS']).toContain(cacheStatus(posted));
    expect(cacheStatus(await page())).toBe('HIT');

    // A post published by WordPress in its pool (as wp-admin would: tenant code here, planted in
    // the release) purges the site's pages through the must-use plugin; the other site's stay cached.
    const title = `Pressluft cache marker ${Date.now()}`;
    const script = join(agent.sitesRoot, SITE, 'current', 'publish-marker.php');
    const { uid, gid } = statSync(join(agent.sitesRoot, SITE, 'tmp'));
    writeFileSync(script, `<?php\nrequire __DIR__ . '/wp-load.php';\n$id = wp_insert_post(['post_title' => '${title}', 'post_content' => 'x', 'post_status' => 'publish']);\necho is_wp_error($id) ? 'failed' : 'published';\n`, { mode: 0o644 });
    chownSync(script, uid, gid);
    const published = await httpsRequest(nginx.tlsPort, '/publish-marker.php', { servername: DOMAINS[0]!, ca: pebbleRoot, method: 'POST', body: 'go=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(published.body).toBe('published');
    expect(await wp(SITE, ['post', 'list', `--title=${title}`, '--format=count'])).toBe('1');
    const fresh = await until('the purged front page', async () => {
      const answer = await page();
      return cacheStatus(answer) !== 'HIT' && answer.body.includes(title) ? answer : undefined;
    }, 10_000);
    expect(fresh.body).toContain(title);
    expect(cacheStatus(await other())).toBe('HIT');

    // A deploy (a spec change) purges too.
    await warm(page);
    const generation = (await patch(SITE, { php: { memoryLimit: '192M' } })).metadata.generation;
    const deploy = await until('the deploy of the new generation', async () => (await commandsOf(SITE, 'DeploySite')).find((c) => (c.spec as { generation?: number }).generation === generation && c.status.state === 'SUCCEEDED'), 180_000, () => stack.explain());
    const afterDeploy = await page();
    expect(cacheStatus(afterDeploy), JSON.stringify({ log: (deploy.status as { log?: string[] }).log, headers: afterDeploy.headers })).not.toBe('HIT');
    expect(cacheStatus(await other())).toBe('HIT');
  }, 300_000);
});

/** The protocol the server picks from h2 and http/1.1 (ALPN). */
function alpn(port: number, servername: string): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false }, () => {
      const protocol = socket.alpnProtocol ?? false;
      socket.end();
      resolve(protocol);
    });
    socket.on('error', reject);
  });
}
