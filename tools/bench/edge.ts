/**
 * tools/bench/edge: one site's front page on this machine, over HTTP and HTTPS, uncached (a query
 * string: every request reaches PHP) and from the page cache, beside nginx serving a static file
 * of the same size through the same server block in the same run (the physical limit of this box).
 * The whole system serves: the control plane process, a real agent, a certificate from a real
 * ACME server (Pebble) on loopback. Load from `wrk` (Debian's), in its own mount namespace whose
 * /etc/hosts points the site's domain at 127.0.0.1 (so SNI and Host name the site; the machine's
 * /etc/hosts is untouched). A benchmark: it prints numbers and asserts nothing.
 * BENCH_SECONDS (default 10) per case, BENCH_CONNECTIONS (default 32).
 */
import { chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlaneProcesses, NodeStack, until, V1 } from '@pressluft/e2e-harness';
import { describeShared, Harness, HARNESS_DIR_PREFIX, httpsRequest, NginxService, PebbleService, run } from '@pressluft/testing';
import { runBenchmark } from './bench-plane.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const SITE = 'edge-bench';
const DOMAIN = 'edge-bench.example.test';

interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** wrk's latency figure ("1.23ms", "850.00us", "1.02s") in milliseconds. */
function ms(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

async function wrk(hostsFile: string, url: string): Promise<Figures> {
  const out = await run(['/usr/bin/unshare', '--mount', '--', '/bin/sh', '-c', 'mount --bind "$0" /etc/hosts && exec /usr/bin/wrk -t2 -c"$1" -d"$2"s --latency "$3"', hostsFile, String(CONNECTIONS), String(SECONDS), url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const p50 = ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { rps, p50, p99, errors };
}

async function main(): Promise<void> {
  const harness = await Harness.start({ postgres: true, nats: true, mariadb: true, nginx: true, phpFpm: true, redis: true });
  const root = mkdtempSync(join(tmpdir(), `${HARNESS_DIR_PREFIX}bench-edge-`));
  const nginx = await NginxService.create(root);
  const pebble = await PebbleService.start(root, { httpPort: nginx.port });
  const processes = await ControlPlaneProcesses.build();
  const stack = await NodeStack.start(processes, describeShared(harness), 'bench-edge', {
    env: { PRESSLUFT_ACME_DIRECTORY_URL: pebble.directoryUrl, PRESSLUFT_DNS_SERVERS: pebble.dnsServer, PRESSLUFT_SITES_HTTPS_PORT: String(nginx.tlsPort) },
  });
  let created = false;
  try {
    const agent = await stack.startAgent('local', {
      nginx,
      env: { NODE_EXTRA_CA_CERTS: pebble.directoryCaFile, PRESSLUFT_AGENT_SITES_TLS_LISTEN: `127.0.0.1:${nginx.tlsPort}`, PRESSLUFT_AGENT_PUBLIC_ADDRESSES: '127.0.0.1', PRESSLUFT_LOG_LEVEL: 'warn' },
    });
    await stack.waitNodeReady('local', 60_000);
    const put = await stack.call(`${V1}/sites/${SITE}`, {
      method: 'PUT',
      body: { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name: SITE }, spec: { domains: [DOMAIN], nodeName: 'local', wordpress: { version: '6.1', title: 'Edge bench', adminUser: 'admin', adminEmail: 'ops@example.test' } } },
    });
    if (put.status !== 201) throw new Error(`PUT ${SITE} answered ${put.status}: ${put.text}`);
    created = true;
    await until('the certificate', async () => {
      const site = await stack.site(SITE);
      return (site?.status.conditions as Array<{ type: string; status: string }> | undefined)?.some((c) => c.type === 'CertificateReady' && c.status === 'True') ? true : undefined;
    }, 180_000, () => stack.explain());

    const ca = await pebble.rootCertificate();
    const front = await httpsRequest(nginx.tlsPort, '/', { servername: DOMAIN, ca });
    const bytes = Buffer.byteLength(front.body);
    // The static file: the same size as the front page, in the live release, the site user's.
    const current = join(agent.sitesRoot, SITE, 'current');
    const { uid, gid } = statSync(join(agent.sitesRoot, SITE, 'tmp'));
    const file = join(current, 'static-bench.html');
    writeFileSync(file, 'x'.repeat(bytes));
    chownSync(file, uid, gid);
    const hostsFile = join(root, 'hosts');
    writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${DOMAIN}\n`);

    const http = `http://${DOMAIN}:${nginx.port}`;
    const https = `https://${DOMAIN}:${nginx.tlsPort}`;
    // HTTP redirects to HTTPS once the certificate is there: the HTTP cases turn the redirect off.
    const cases: Array<[string, string]> = [];
    const results: Record<string, Figures> = {};
    await httpsRequest(nginx.tlsPort, '/', { servername: DOMAIN, ca }); // warm the cache
    cases.push(['HTTPS static file', `${https}/static-bench.html`], ['HTTPS cached', `${https}/`], ['HTTPS uncached', `${https}/?bench=1`]);
    for (const [name, url] of cases) results[name] = await wrk(hostsFile, url);
    const patched = await stack.call(`${V1}/sites/${SITE}`, { method: 'PATCH', body: { spec: { tls: { redirect: false } } }, contentType: 'application/merge-patch+json' });
    if (patched.status !== 200) throw new Error(`PATCH ${SITE}: ${patched.status} ${patched.text}`);
    await until('HTTP without the redirect', async () => {
      const site = await stack.site(SITE);
      return site?.status.phase === 'ACTIVE' && site.status.observedGeneration === site.metadata.generation ? true : undefined;
    }, 120_000, () => stack.explain());
    await run(['/usr/bin/curl', '-fsS', '-o', '/dev/null', '-H', `Host: ${DOMAIN}`, `http://127.0.0.1:${nginx.port}/`]); // warm the cache
    for (const [name, url] of [['HTTP static file', `${http}/static-bench.html`], ['HTTP cached', `${http}/`], ['HTTP uncached', `${http}/?bench=1`]] as const) results[name] = await wrk(hostsFile, url);

    console.log(`edge: ${DOMAIN}, front page ${bytes} bytes; wrk -t2 -c${CONNECTIONS} -d${SECONDS}s per case; nginx 1 worker (the harness's), 2 cores shared with wrk`);
    for (const [name, f] of Object.entries(results)) {
      console.log(`${name.padEnd(18)} ${f.rps.toFixed(0).padStart(8)} req/s  p50 ${f.p50.toFixed(2).padStart(7)} ms  p99 ${f.p99.toFixed(2).padStart(7)} ms  errors ${f.errors}`);
    }
    const cached = results['HTTPS cached'];
    const stat = results['HTTPS static file'];
    if (cached && stat) console.log(`cached HTTPS vs static file over HTTPS: ${(stat.rps / cached.rps).toFixed(2)}x fewer req/s, p99 ${(cached.p99 / stat.p99).toFixed(2)}x (goal: within 1.5x)`);
  } finally {
    if (created) {
      await stack.call(`${V1}/sites/${SITE}`, { method: 'PATCH', body: { spec: { backup: { skipPreDeleteBackup: true } } }, contentType: 'application/merge-patch+json' }).catch(() => undefined);
      await stack.call(`${V1}/sites/${SITE}`, { method: 'DELETE' });
      await stack.waitSiteGone(SITE, 90_000).catch((error: unknown) => console.error(String(error)));
    }
    await stack.stop();
    await processes.stop();
    await pebble.stop();
    await nginx.stop();
    await harness.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

runBenchmark(main);
