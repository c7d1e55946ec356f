// Hostile tenant vs. IssueCertificate: the site user tries to write ACME answers or read the
// site's key (both root-only), plants symlinks where a naive agent would write an http-01 answer
// (the release's /.well-known/acme-challenge), and runs code in the WP-CLI that switches its URLs
// (a must-use plugin that records who runs it and tries to read the key).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import type { AcmeOrder } from '@pressluft/proto';
import { PebbleService } from '@pressluft/testing';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execOk } from '../exec.js';
import { acmeAccountDir, acmeChallengeDir, sitePaths } from '../naming.js';
import type { HostSettings } from '../settings.js';
import { SiteHost } from '../site-host.js';
import { requireUser } from '../users.js';
import { hostHarness, RecordingReporter } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';
import { diff, snapshot } from '../../../test/watched-set.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const SITE = hostileSite(`tlsx-${suffix}`);

describe('hostile tenant: IssueCertificate', () => {
  const harness = hostHarness(services, `pressluft-hostile-tls-${suffix}`);
  let pebble: PebbleService;
  let settings: HostSettings;
  let host: SiteHost;
  const paths = sitePaths(harness.settings, SITE.name, SITE.id);
  let tenant = { uid: -1, gid: -1 };
  const asTenant = (...argv: string[]) => execOk(argv, { uid: tenant.uid, gid: tenant.gid });
  /** A command as the tenant that must fail. */
  const refused = (...argv: string[]) => asTenant(...argv).then(() => `${argv.join(' ')} succeeded`, () => 'refused');
  const order = (): AcmeOrder => ({ directoryUrl: pebble.directoryUrl, email: '', domains: SITE.domains, challenge: 'http-01', dnsProvider: '', dnsZone: '' });

  beforeAll(async () => {
    pebble = await PebbleService.start(harness.root, { httpPort: services.nginx.port });
    // Test only: this process trusts Pebble's listener (the agent process: NODE_EXTRA_CA_CERTS).
    acme.axios.defaults.httpsAgent = new HttpsAgent({ ca: pebble.directoryCa });
    // The shared nginx's TLS listener, as every host spec's (one node, one TLS listener).
    settings = harness.settings;
    host = new SiteHost(settings, createLogger({ name: 'hostile-tls', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
    await host.provision(SITE, new RecordingReporter());
    tenant = await requireUser(`site_${SITE.id}`);
  }, 240_000);

  afterAll(async () => {
    await removeSites(host, harness, [SITE]).finally(() => pebble.stop());
  }, 120_000);

  it('never follows what the tenant plants where a naive agent writes, and runs WP-CLI as the site user in its jail', async () => {
    const release = join(paths.root, readlinkSync(paths.current));
    // A root-owned decoy the tenant points the release's challenge path at.
    const decoy = join(harness.root, 'decoy');
    mkdirSync(decoy, { mode: 0o755 });
    writeFileSync(join(decoy, 'keep.txt'), 'root owned\n', { mode: 0o644 });
    const before = await snapshot([decoy]);
    await asTenant('/bin/mkdir', '-p', join(release, '.well-known'), join(release, 'wp-content', 'mu-plugins'));
    await asTenant('/bin/ln', '-sfn', decoy, join(release, '.well-known', 'acme-challenge'));
    // The tenant's code, loaded by every WordPress run (WP-CLI's too): who runs it, and can it read the key?
    const probe = join(paths.tmp, 'cli-probe.txt');
    const plugin = `<?php\nif ( PHP_SAPI === 'cli' ) {\n\t$key = @file_get_contents( ${JSON.stringify(paths.tlsPrivateKey)} );\n\tfile_put_contents( ${JSON.stringify(probe)}, $key === false ? 'key unreadable' : 'key read' );\n}\n`;
    await execOk(['/bin/sh', '-c', 'cat > "$0"', join(release, 'wp-content', 'mu-plugins', 'probe.php')], { uid: tenant.uid, gid: tenant.gid, input: plugin });

    const { certificate } = await host.certify({ site: SITE, source: 'acme', order: order() }, new RecordingReporter());
    expect(certificate?.domains).toEqual(SITE.domains);
    expect(await diff(before)).toEqual([]);
    // WP-CLI ran the tenant's code as the tenant (the file is its), where the key is out of reach.
    expect(statSync(probe).uid).toBe(tenant.uid);
    expect(readFileSync(probe, 'utf8')).toBe('key unreadable');
  }, 180_000);

  it('cannot write an ACME answer, reach the account keys, or read or replace the certificate', async () => {
    expect(await refused('/usr/bin/touch', join(acmeChallengeDir(settings), 'planted-token'))).toBe('refused');
    expect(await refused('/bin/ls', acmeAccountDir(settings))).toBe('refused');
    expect(await refused('/bin/cat', paths.tlsPrivateKey)).toBe('refused');
    expect(await refused('/bin/ls', paths.tlsDir)).toBe('refused');
    expect(await refused('/usr/bin/touch', join(paths.tlsDir, 'fullchain.pem'))).toBe('refused');
    expect(statSync(paths.tlsPrivateKey).uid).toBe(0);
  });
});
