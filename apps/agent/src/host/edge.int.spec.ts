// The edge of a site on real nginx, PHP-FPM and WordPress: the page cache (HIT, bypasses, purges by
// deploy and by the must-use plugin through the site's purge socket), HTTPS by SNI with a
// certificate in the site's tls paths, the redirect and HSTS, and removal.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createCertificateAuthority, createLogger, issueCertificate, type PemPair } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sitePaths } from './naming.js';
import { CACHE_PLUGIN, currentRelease } from './releases.js';
import { SiteHost } from './site-host.js';
import { requireUser } from './users.js';
import { hostHarness, QUIET, RecordingReporter, siteRequest } from '../../test/host-harness.js';
import { hostileSite, removeSites } from '../../test/hostile-sites.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const CACHE = { redis: false, page: { enabled: true, sizeMib: 32, ttlSeconds: 600 } };
const TLS = { mode: 'custom', redirect: true, hstsMaxAgeSeconds: 600, hstsIncludeSubdomains: true, hstsPreload: false };
const A: SiteConfig = hostileSite(`edge-a-${suffix}`, { cache: CACHE, tls: TLS });
const B: SiteConfig = hostileSite(`edge-b-${suffix}`, { cache: CACHE });
const domain = (site: SiteConfig) => site.domains[0] ?? '';
const cacheHeader = (answer: { headers: Record<string, string | string[] | undefined> }) => answer.headers['x-pressluft-cache'];

interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** GET over TLS to the harness's nginx with SNI `servername`, trusting only `ca`. */
function httpsGet(servername: string, path: string, ca: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: services.nginx.tlsPort, path, servername, ca, agent: false, headers: { host: servername }, timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The protocol ALPN agreed on a TLS connection with SNI `servername` (or the handshake's error). */
function alpn(servername: string, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: services.nginx.tlsPort, servername, ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      resolve(String(socket.alpnProtocol));
      socket.end();
    });
    socket.on('error', (error) => resolve(`error: ${error.message}`));
  });
}

/** GETs until the cache answers HIT (a fresh entry may need its MISS first); the statuses seen. */
async function untilHit(site: SiteConfig, path = '/'): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 5; i++) {
    const answer = await siteRequest(services, domain(site), path);
    seen.push(`${answer.status} ${String(cacheHeader(answer))}`);
    if (cacheHeader(answer) === 'HIT') return seen;
  }
  throw new Error(`no HIT for ${domain(site)}${path}: ${seen.join(', ')}`);
}

describe('the edge of a site: page cache, purge, HTTPS', () => {
  const harness = hostHarness(services, `pressluft-edge-${suffix}`);
  const host = new SiteHost(harness.settings, createLogger({ name: 'edge-test', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const pathsA = sitePaths(harness.settings, A.name, A.id);
  const pathsB = sitePaths(harness.settings, B.name, B.id);
  let ca: PemPair;

  beforeAll(async () => {
    await host.provision(A, new RecordingReporter());
    await host.provision(B, new RecordingReporter());
    ca = await createCertificateAuthority(`edge test CA ${suffix}`, 1);
  }, 240_000);

  afterAll(() => removeSites(host, harness, [A, B]), 120_000);

  it("gives each site its own cache directory, nginx's user's alone, and the plugin in its release", async () => {
    const web = await requireUser('www-data');
    for (const paths of [pathsA, pathsB]) {
      const st = statSync(paths.pageCacheDir);
      expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([web.uid, web.gid, 0o700]);
      const socket = statSync(paths.purgeSocket);
      expect(socket.isSocket()).toBe(true);
      expect(socket.mode & 0o777).toBe(0o660);
      const release = await currentRelease(paths);
      expect(existsSync(join(paths.releases, release ?? '', 'wp-content', 'mu-plugins', CACHE_PLUGIN))).toBe(true);
    }
    expect(statSync(join(pathsA.pageCacheDir, '..')).mode & 0o7777).toBe(0o711);
  });

  it('answers the second anonymous GET from the cache', async () => {
    const first = await siteRequest(services, domain(A), '/');
    expect(first.status).toBe(200);
    expect(first.headers['x-pressluft-cache']).toMatch(/^(MISS|HIT|EXPIRED)$/);
    const second = await siteRequest(services, domain(A), '/');
    expect(second.status).toBe(200);
    expect(cacheHeader(second)).toBe('HIT');
    expect(second.body).toBe(first.body);
  });

  it('bypasses a logged-in user and never stores their page', async () => {
    const path = `/logged-in-${suffix}/`;
    const cookie = 'wordpress_logged_in_0123456789abcdef=admin%7C1%7Cx%7Cy';
    expect(cacheHeader(await siteRequest(services, domain(A), path, { cookie }))).toBe('BYPASS');
    expect(cacheHeader(await siteRequest(services, domain(A), path, { cookie }))).toBe('BYPASS');
    // Had the logged-in answer been stored, this would be a HIT.
    expect(cacheHeader(await siteRequest(services, domain(A), path))).toBe('MISS');
  });

  it('never caches a POST, nor a query string', async () => {
    const path = `/posted-${suffix}/`;
    for (let i = 0; i < 2; i++) {
      const posted = await siteRequest(services, domain(A), path, { method: 'POST', body: 'x=1' });
      // nginx does not even look into the cache for a POST (fastcgi_cache_methods): no status at all.
      expect(`${posted.status} ${String(cacheHeader(posted))}`).toBe('200 undefined');
    }
    expect(cacheHeader(await siteRequest(services, domain(A), path))).toBe('MISS');
    for (let i = 0; i < 2; i++) expect(cacheHeader(await siteRequest(services, domain(A), `/?s=${suffix}`))).toBe('BYPASS');
  });

  it("purges only the site whose content changed, through the must-use plugin and the site's socket", async () => {
    await untilHit(A);
    await untilHit(B);
    // Tenant code publishing a post, as wp-admin would: the plugin's hooks ask for a purge at shutdown.
    const owner = await requireUser(`site_${A.id}`);
    const script = join(pathsA.releases, (await currentRelease(pathsA)) ?? '', `publish-${suffix}.php`);
    writeFileSync(script, `<?php\nrequire __DIR__ . '/wp-load.php';\n$id = wp_insert_post(['post_title' => 'Edge ${suffix}', 'post_content' => 'x', 'post_status' => 'publish']);\necho is_wp_error($id) ? 'failed' : 'published';\n`, { mode: 0o644 });
    chownSync(script, owner.uid, owner.gid);
    const published = await siteRequest(services, domain(A), `/publish-${suffix}.php`, { method: 'POST', body: 'go=1' });
    expect(published.body).toBe('published');
    expect(cacheHeader(await siteRequest(services, domain(A), '/'))).toBe('MISS');
    expect(cacheHeader(await siteRequest(services, domain(B), '/'))).toBe('HIT');
  });

  it('purges on deploy, emptying the cache directory in place (nginx writes its temp files there)', async () => {
    await untilHit(B);
    const before = statSync(pathsB.pageCacheDir);
    expect(readdirSync(pathsB.pageCacheDir).length).toBeGreaterThan(0);
    const reporter = new RecordingReporter();
    await host.deploy(B, reporter);
    expect(reporter.lines).toContain('page cache purged');
    const after = statSync(pathsB.pageCacheDir);
    expect([after.ino, after.uid, after.mode & 0o7777]).toEqual([before.ino, before.uid, 0o700]);
    expect(readdirSync(join(pathsB.pageCacheDir, '..')).filter((name) => name.startsWith('.purge-'))).toEqual([]);
    expect(cacheHeader(await siteRequest(services, domain(B), '/'))).toBe('MISS');
  }, 120_000);

  it('serves HTTPS by SNI with the certificate in the tls paths, then redirects HTTP (but ACME) and sends HSTS', async () => {
    // Before the certificate: HTTP serves the site, whatever spec.tls.redirect says.
    expect((await siteRequest(services, domain(A), '/')).status).toBe(200);
    const leaf = await issueCertificate(ca, { commonName: domain(A), usage: 'server', dnsNames: [...A.domains], validityDays: 1 });
    mkdirSync(pathsA.tlsDir, { recursive: true, mode: 0o700 });
    writeFileSync(pathsA.tlsCertificate, leaf.cert, { mode: 0o644 });
    writeFileSync(pathsA.tlsPrivateKey, leaf.key, { mode: 0o600 });
    writeFileSync(pathsA.tlsMetadata, JSON.stringify({ source: 'custom', domains: A.domains, ocspStapling: false }), { mode: 0o644 });
    await host.deploy(A, new RecordingReporter());

    const redirected = await siteRequest(services, domain(A), `/some/page/?x=1`);
    expect(redirected.status).toBe(301);
    expect(redirected.headers['location']).toBe(`https://${domain(A)}:${services.nginx.tlsPort}/some/page/?x=1`);
    expect(redirected.headers['strict-transport-security']).toBeUndefined();
    const challenge = await siteRequest(services, domain(A), `/.well-known/acme-challenge/none-${suffix}`);
    expect(challenge.status).toBe(404);

    const first = await httpsGet(domain(A), '/', ca.cert);
    expect(first.status).toBe(200);
    expect(first.headers['strict-transport-security']).toBe('max-age=600; includeSubDomains');
    expect(cacheHeader(await httpsGet(domain(A), '/', ca.cert))).toBe('HIT');
    expect(await alpn(domain(A), ca.cert)).toBe('h2');
    // A name no site with a certificate claims: the handshake is refused (B has none).
    expect(await alpn(domain(B), ca.cert)).toMatch(/^error: /);
    await expect(httpsGet(`unknown-${suffix}.example.test`, '/', ca.cert)).rejects.toThrow();
  }, 120_000);

  it('removes the cache directory and the purge socket with the site', async () => {
    await host.remove(B.name, B.id, QUIET);
    expect(existsSync(pathsB.pageCacheDir)).toBe(false);
    expect(existsSync(pathsB.purgeSocket)).toBe(false);
    expect(readdirSync(join(pathsB.pageCacheDir, '..')).filter((name) => name.includes(B.id))).toEqual([]);
  }, 60_000);
});
