import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { freePort } from './host.js';
import { ManagedProcess } from './process.js';
import { createTestPki } from './tls.js';

export interface PebbleOptions {
  /** The port Pebble's validation authority connects to for http-01 (the node's sites HTTP port). */
  readonly httpPort: number;
  /** Lifetime of the certificates it issues (Pebble's certificateValidityPeriod); default 5 years. */
  readonly certificateValiditySeconds?: number;
  /** Where challtestsrv's DNS answers A queries that have no explicit record; default 127.0.0.1. */
  readonly defaultIPv4?: string;
  /** Names Pebble refuses to issue for (its domainBlocklist): an order for one fails with rejectedIdentifier. */
  readonly blockedDomains?: readonly string[];
}

/**
 * A real ACME server on loopback: Debian's `pebble` (RFC 8555 test CA) beside
 * `pebble-challtestsrv` as its DNS server (every name resolves to defaultIPv4 unless told
 * otherwise; dns-01 TXT records are set through its management API). Pebble's own listener uses a
 * throwaway TLS certificate: clients trust `directoryCa` (NODE_EXTRA_CA_CERTS = directoryCaFile).
 * Pebble's answers are made deterministic: no random validation sleeps, no rejected nonces.
 */
export class PebbleService {
  private constructor(
    private readonly pebble: ManagedProcess,
    private readonly challtestsrv: ManagedProcess,
    /** https://127.0.0.1:<port>/dir */
    readonly directoryUrl: string,
    /** PEM of the CA that signed Pebble's own listener (not the issued certificates' root). */
    readonly directoryCa: string,
    readonly directoryCaFile: string,
    /** https://127.0.0.1:<port> (roots, intermediates). */
    readonly managementUrl: string,
    /** http://127.0.0.1:<port>: challtestsrv's management API (set-txt, add-a, ...). */
    readonly challtestsrvUrl: string,
    /** 127.0.0.1:<port>: challtestsrv's DNS server (UDP and TCP). */
    readonly dnsServer: string,
  ) {}

  static async start(root: string, options: PebbleOptions): Promise<PebbleService> {
    const dir = join(root, 'pebble');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const pki = await createTestPki();
    const certFile = join(dir, 'listener.crt');
    const keyFile = join(dir, 'listener.key');
    const caFile = join(dir, 'listener-ca.crt');
    writeFileSync(certFile, pki.server.cert, { mode: 0o644 });
    writeFileSync(keyFile, pki.server.key, { mode: 0o600 });
    writeFileSync(caFile, pki.ca.cert, { mode: 0o644 });
    const [acmePort, managementPort, dnsPort, challPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const config = {
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: certFile,
        privateKey: keyFile,
        httpPort: options.httpPort,
        tlsPort: 0,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(options.certificateValiditySeconds !== undefined ? { certificateValidityPeriod: options.certificateValiditySeconds } : {}),
        ...(options.blockedDomains ? { domainBlocklist: [...options.blockedDomains] } : {}),
      },
    };
    const configFile = join(dir, 'pebble.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o644 });
    const challtestsrv = ManagedProcess.start(
      'pebble-challtestsrv',
      ['/usr/bin/pebble-challtestsrv', '-defaultIPv4', options.defaultIPv4 ?? '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challPort}`],
      { logFile: join(dir, 'challtestsrv.log'), cwd: dir },
    );
    const pebble = ManagedProcess.start('pebble', ['/usr/bin/pebble', '-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict'], {
      logFile: join(dir, 'pebble.log'),
      cwd: dir,
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    });
    const service = new PebbleService(
      pebble,
      challtestsrv,
      `https://127.0.0.1:${acmePort}/dir`,
      pki.ca.cert,
      caFile,
      `https://127.0.0.1:${managementPort}`,
      `http://127.0.0.1:${challPort}`,
      `127.0.0.1:${dnsPort}`,
    );
    await pebble.waitUntil(async () => (await service.get(service.directoryUrl).catch(() => undefined)) !== undefined);
    await challtestsrv.waitUntil(async () => (await fetch(`${service.challtestsrvUrl}/clear-a`, { method: 'POST', body: JSON.stringify({ host: 'probe.invalid.' }) }).catch(() => undefined))?.ok === true);
    return service;
  }

  /** The PEM root every certificate Pebble issues chains to (a new one each Pebble start). */
  rootCertificate(): Promise<string> {
    return this.get(`${this.managementUrl}/roots/0`);
  }

  /** Points `host` at `addresses` in challtestsrv's DNS (instead of the default address). */
  async setAddresses(host: string, addresses: readonly string[]): Promise<void> {
    await this.challtestsrvPost('/clear-a', { host: fqdn(host) });
    if (addresses.length > 0) await this.challtestsrvPost('/add-a', { host: fqdn(host), addresses });
  }

  /** Makes challtestsrv's DNS answer SERVFAIL for `host` (the ACME server cannot resolve it at all), or not. */
  async setServfail(host: string, failing: boolean): Promise<void> {
    await this.challtestsrvPost(failing ? '/set-servfail' : '/clear-servfail', { host: fqdn(host) });
  }

  /** The last lines Pebble logged (for a test's failure message). */
  logTail(lines = 40): string {
    return this.pebble.logTail(lines);
  }

  private async challtestsrvPost(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${this.challtestsrvUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`challtestsrv ${path}: HTTP ${response.status}`);
  }

  /** GET over HTTPS trusting Pebble's listener CA (fetch cannot take a CA per request). */
  private get(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(url, { ca: this.directoryCa, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode ?? 0}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** The two processes' PIDs (pebble, challtestsrv). */
  get pids(): number[] {
    return [this.pebble.pid, this.challtestsrv.pid];
  }

  async stop(): Promise<void> {
    await Promise.all([this.pebble.stop('SIGTERM', 10_000), this.challtestsrv.stop('SIGTERM', 10_000)]);
  }
}

function fqdn(host: string): string {
  return host.endsWith('.') ? host : `${host}.`;
}
