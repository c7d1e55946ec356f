import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { createLogger, createCertificateAuthority, issueCertificate } from '@pressluft/platform';
import type { AcmeOrder, SiteConfig } from '@pressluft/proto';
import { PebbleService } from '@pressluft/testing';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostHarness, QUIET, RecordingReporter, siteRequest } from '../../test/host-harness.js';
import { accountFileName } from './acme/account.js';
import { splitChain } from './acme/certificate.js';
import { execOk } from './exec.js';
import { clientArgv } from './mariadb.js';
import { acmeAccountDir, acmeChallengeDir, sitePaths } from './naming.js';
import type { HostSettings } from './settings.js';
import { SiteHost, StepError } from './site-host.js';

/*
 * IssueCertificate on a real stack (nginx, PHP-FPM, MariaDB, WP-CLI) against a real ACME server:
 * Debian's Pebble with pebble-challtestsrv as its DNS (every name resolves to 127.0.0.1, where the
 * harness's nginx answers http-01 on its sites port).
 */

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const id = randomBytes(8).toString('hex').replace(/[^0-9a-z]/g, '').slice(0, 8).padEnd(8, '0');
const SITE: SiteConfig = {
  name: `tls-${suffix}`,
  id,
  environment: 'production',
  domains: [`tls-${suffix}.example.test`, `www.tls-${suffix}.example.test`],
  php: { version: '8.2', memoryLimitMb: 128, maxChildren: 2, uploadMaxMb: 8 },
  wordpress: { version: '', title: `TLS ${suffix}`, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
  resources: { cpuPercent: 100, memoryMib: 256 },
  keepReleases: 2,
};
const [domain, www] = SITE.domains as [string, string];
const admin = ['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`];
const option = async (name: string) => (await execOk(clientArgv(admin), { input: `SELECT option_value FROM site_${id}.wp_options WHERE option_name = '${name}';\n`, timeoutMs: 60_000 })).trim();

/** The error an operation rejects with (fails the test if it resolves, with what `context` tells). */
async function failureOf(operation: Promise<unknown>, context: () => string = () => ''): Promise<StepError> {
  const outcome = await operation.then(
    (result) => new Error(`expected a rejection, got ${JSON.stringify(result)}${context()}`),
    (error: unknown) => error,
  );
  if (!(outcome instanceof StepError)) throw outcome;
  return outcome;
}

describe('IssueCertificate with a real ACME server (Pebble), nginx and WordPress', () => {
  const harness = hostHarness(services, `pressluft-tls-${suffix}`);
  let pebble: PebbleService;
  let settings: HostSettings;
  let host: SiteHost;
  let tlsPort: number;
  const paths = sitePaths(harness.settings, SITE.name, SITE.id);
  const files = () => ({ key: readFileSync(paths.tlsPrivateKey, 'utf8'), chain: readFileSync(paths.tlsCertificate, 'utf8'), metadata: readFileSync(paths.tlsMetadata, 'utf8') });
  const acmeOrder = (overrides: Partial<AcmeOrder> = {}): AcmeOrder => ({ directoryUrl: pebble.directoryUrl, email: 'ops@example.test', domains: SITE.domains, challenge: 'http-01', dnsProvider: '', dnsZone: '', ...overrides });

  beforeAll(async () => {
    pebble = await PebbleService.start(harness.root, { httpPort: services.nginx.port });
    // Test only: this process trusts Pebble's listener (the agent process: NODE_EXTRA_CA_CERTS).
    acme.axios.defaults.httpsAgent = new HttpsAgent({ ca: pebble.directoryCa });
    // The shared nginx's TLS listener, as every host spec's (a port of its own would make the
    // node's default server flip between the specs' listeners).
    tlsPort = services.nginx.tlsPort;
    settings = { ...harness.settings, nginx: { ...harness.settings.nginx, tlsListen: `127.0.0.1:${tlsPort}` }, acme: { challtestsrvUrl: pebble.challtestsrvUrl } };
    host = new SiteHost(settings, createLogger({ name: 'certify-test', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
    await host.provision(SITE, QUIET);
  }, 240_000);

  afterAll(async () => {
    await host.remove(SITE.name, SITE.id, QUIET).catch((e: unknown) => console.error('cleanup failed:', e));
    await host.stopAll().catch(() => undefined);
    await pebble.stop();
    harness.cleanup();
  }, 120_000);

  let first: ReturnType<typeof files>;

  it('orders a certificate for every domain over http-01, installs it root-only and moves WordPress to https', async () => {
    const reporter = new RecordingReporter();
    // That the site answers throughout an order (HTTP, then HTTPS) is shown end to end on a node's
    // own nginx (apps/control-plane/src/e2e/edge.int.spec.ts): this nginx is shared with specs whose
    // reloads at the same moment can cut a request in flight (nginx "open socket left in
    // connection" on a worker's graceful exit), which is not this operation's doing.
    const { certificate } = await host.certify({ site: SITE, source: 'acme', order: acmeOrder() }, reporter);
    expect([...new Set(reporter.steps)]).toEqual(['validate', 'acme', 'certificate', 'install', 'nginx', 'wordpress']);
    expect(certificate).toMatchObject({ source: 'acme', ocspStapling: false });
    expect([...(certificate?.domains ?? [])].sort()).toEqual([...SITE.domains].sort());
    expect(Date.parse(certificate?.notAfter ?? '')).toBeGreaterThan(Date.now());
    expect(JSON.stringify(certificate)).not.toContain('PRIVATE KEY');
    expect(reporter.lines.join('\n')).not.toContain('PRIVATE KEY');

    first = files();
    // The chain Pebble issued ends in a certificate signed by Pebble's root.
    const chain = splitChain(first.chain).map((pem) => new X509Certificate(pem));
    const root = new X509Certificate(await pebble.rootCertificate());
    const top = chain[chain.length - 1] as X509Certificate;
    expect(top.checkIssued(root) && top.verify(root.publicKey)).toBe(true);
    expect((chain[0] as X509Certificate).checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(first.key)))).toBe(true);
    expect(JSON.parse(first.metadata)).toEqual(certificate);

    const mode = (path: string) => statSync(path).mode & 0o7777;
    const owner = (path: string) => `${statSync(path).uid}:${statSync(path).gid}`;
    expect([mode(join(settings.stateDir, 'tls')), mode(paths.tlsDir), mode(paths.tlsPrivateKey), mode(paths.tlsCertificate), mode(paths.tlsMetadata)]).toEqual([0o700, 0o700, 0o600, 0o644, 0o644]);
    for (const path of [paths.tlsDir, paths.tlsPrivateKey, paths.tlsCertificate, paths.tlsMetadata]) expect(owner(path)).toBe('0:0');
    expect(readdirSync(paths.tlsDir).sort()).toEqual(['certificate.json', 'fullchain.pem', 'privkey.pem']);
    // The answers are gone; the account key is root's alone.
    expect(readdirSync(acmeChallengeDir(settings))).toEqual([]);
    expect(mode(acmeChallengeDir(settings))).toBe(0o755);
    expect(mode(acmeAccountDir(settings))).toBe(0o700);
    expect(mode(join(acmeAccountDir(settings), `${accountFileName(pebble.directoryUrl)}.key`))).toBe(0o600);
    expect(reporter.lines).toContainEqual(expect.stringMatching(/^acme: account https:\/\/127\.0\.0\.1:\d+\/my-account\/\S+ \(registered\)$/));

    const url = `https://${domain}`;
    expect([await option('home'), await option('siteurl')]).toEqual([url, url]);
    expect(reporter.lines).toContain(`wordpress: home and siteurl set to ${url}`);
  }, 180_000);

  it('renews with the same account and a new key, replacing the whole set', async () => {
    const keyFile = join(acmeAccountDir(settings), `${accountFileName(pebble.directoryUrl)}.key`);
    const accountKey = readFileSync(keyFile, 'utf8');
    const reporter = new RecordingReporter();
    const { certificate } = await host.certify({ site: SITE, source: 'acme', order: acmeOrder() }, reporter);
    expect(readFileSync(keyFile, 'utf8')).toBe(accountKey);
    expect(reporter.lines).toContainEqual(expect.stringMatching(/^acme: account \S+ \(this node's, reused\)$/));
    const second = files();
    expect(second.key).not.toBe(first.key);
    expect(second.chain).not.toBe(first.chain);
    expect(JSON.parse(second.metadata)).toEqual(certificate);
    // WordPress was already on https: nothing to change.
    expect(reporter.lines).toContain(`wordpress: home and siteurl already https://${domain}`);
    first = second;
  }, 180_000);

  it('orders over dns-01 through challtestsrv', async () => {
    const reporter = new RecordingReporter();
    const { certificate } = await host.certify({ site: SITE, source: 'acme', order: acmeOrder({ challenge: 'dns-01', dnsProvider: 'challtestsrv' }) }, reporter);
    expect(reporter.lines).toContain(`acme: dns-01 for ${domain} valid`);
    expect(certificate?.fingerprintSha256).not.toBe(JSON.parse(first.metadata).fingerprintSha256);
    first = files();
  }, 180_000);

  it('fails AcmeChallengeFailed when the ACME server cannot reach the node, leaving the served certificate and files untouched', async () => {
    // Pebble cannot resolve www (its DNS answers SERVFAIL): the validation of http-01 fails.
    await pebble.setServfail(www, true);
    try {
      const before = readdirSync(paths.tlsDir).map((name) => [name, statSync(join(paths.tlsDir, name)).ino]);
      const error = await failureOf(host.certify({ site: SITE, source: 'acme', order: acmeOrder() }, new RecordingReporter()), () => `\npebble's log:\n${pebble.logTail()}`);
      expect(error.reason).toBe('AcmeChallengeFailed');
      expect(error.message).toContain(`http-01 for ${www} failed: `);
      expect(error.message).not.toContain('PRIVATE');
      expect(files()).toEqual(first);
      expect(readdirSync(paths.tlsDir).map((name) => [name, statSync(join(paths.tlsDir, name)).ino])).toEqual(before);
      expect(readdirSync(acmeChallengeDir(settings))).toEqual([]);
    } finally {
      await pebble.setServfail(www, false);
    }
  }, 180_000);

  it('fails DnsProviderUnavailable for a provider this node has not, before ordering', async () => {
    const before = files();
    const error = await failureOf(host.certify({ site: SITE, source: 'acme', order: acmeOrder({ challenge: 'dns-01', dnsProvider: 'route53' }) }, new RecordingReporter()));
    expect(error.reason).toBe('DnsProviderUnavailable');
    expect(files()).toEqual(before);
  });

  it('refuses an order for a domain that is not the site\'s, before ordering', async () => {
    const before = files();
    const error = await failureOf(host.certify({ site: SITE, source: 'acme', order: acmeOrder({ domains: [domain, 'other.example.test'] }) }, new RecordingReporter()));
    expect({ step: error.step, reason: error.reason, message: error.message }).toEqual({ step: 'validate', reason: 'AcmeOrderInvalid', message: `the ACME order names other.example.test, not domains of site ${SITE.name}` });
    expect(files()).toEqual(before);
  });

  it('installs a custom certificate and refuses one that does not fit, changing nothing', async () => {
    const ca = await createCertificateAuthority(`custom CA ${suffix}`, 30);
    const pair = await issueCertificate(ca, { commonName: domain, usage: 'server', dnsNames: SITE.domains, validityDays: 10 });
    const { certificate } = await host.certify({ site: SITE, source: 'custom', certificatePem: `${pair.cert.trim()}${ca.cert.trim()}`, privateKeyPem: pair.key }, new RecordingReporter());
    expect(certificate).toMatchObject({ source: 'custom', issuer: `CN=custom CA ${suffix}` });
    const custom = files();
    expect(custom.key).toBe(pair.key);
    // The chain as nginx reads it: the PEM blocks alone, each on its own lines (whatever joined them).
    expect(custom.chain).toBe(`${pair.cert.trim()}\n${ca.cert.trim()}\n`);

    const narrow = await issueCertificate(ca, { commonName: domain, usage: 'server', dnsNames: [domain], validityDays: 10 });
    const uncovered = await failureOf(host.certify({ site: SITE, source: 'custom', certificatePem: narrow.cert, privateKeyPem: narrow.key }, new RecordingReporter()));
    expect(uncovered.reason).toBe('CertificateInvalid');
    expect(uncovered.message).toBe(`custom certificate refused: the certificate does not cover ${www} (it names ${domain})`);
    const mismatched = await failureOf(host.certify({ site: SITE, source: 'custom', certificatePem: pair.cert, privateKeyPem: narrow.key }, new RecordingReporter()));
    expect(mismatched.reason).toBe('CertificateInvalid');
    expect(mismatched.message).toContain('the private key does not belong to the certificate');
    expect(mismatched.message).not.toContain('PRIVATE KEY');
    expect(files()).toEqual(custom);
  }, 120_000);

  it('removes the certificate and moves WordPress back to http, idempotently', async () => {
    const reporter = new RecordingReporter();
    expect(await host.certify({ site: SITE, source: 'remove' }, reporter)).toEqual({ certificate: undefined });
    expect([paths.tlsPrivateKey, paths.tlsCertificate, paths.tlsMetadata].filter((path) => existsSync(path))).toEqual([]);
    const url = `http://${domain}`;
    expect([await option('home'), await option('siteurl')]).toEqual([url, url]);
    const probe = await siteRequest(services, domain);
    expect({ status: probe.status, location: probe.headers['location'] }).toEqual({ status: 200, location: undefined });
    const again = new RecordingReporter();
    await host.certify({ site: SITE, source: 'remove' }, again);
    expect(again.lines).toContain(`tls: ${SITE.name} had no certificate`);
    expect(again.lines).toContain(`wordpress: home and siteurl already ${url}`);
  }, 120_000);

  it('fails TlsUnavailable on a node without a TLS listener', async () => {
    const { tlsListen: _served, ...httpOnly } = harness.settings.nginx;
    const plain = new SiteHost({ ...settings, nginx: httpOnly }, createLogger({ name: 'certify-plain', level: 'warn' }));
    const error = await failureOf(plain.certify({ site: SITE, source: 'acme', order: acmeOrder() }, new RecordingReporter()));
    expect(error.reason).toBe('TlsUnavailable');
  });

  it("removes the site's certificate directory with the site", async () => {
    await host.certify({ site: SITE, source: 'acme', order: acmeOrder() }, new RecordingReporter());
    await host.remove(SITE.name, SITE.id, QUIET);
    expect(existsSync(paths.tlsDir)).toBe(false);
  }, 180_000);
});
