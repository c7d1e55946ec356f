import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { freePort, portOpen } from './host.js';
import { ManagedProcess } from './process.js';
import { createTestPki, type TestPki } from './tls.js';
import { startNatsContainer } from './containers.js';

export interface NatsOptions {
  /** 'mutual': clients must present a certificate signed by the test CA. */
  readonly tls?: 'server' | 'mutual';
  /** With tls: this CA and server certificate instead of a throwaway test PKI (`pki` is then undefined). */
  readonly certificates?: { readonly caCert: string; readonly serverCert: string; readonly serverKey: string };
  /** With tls 'mutual': each client certificate's subject names its user (TLS verify_and_map). */
  readonly verifyAndMap?: boolean;
  /** A config file to include (e.g. a generated `authorization { ... }`); any absolute path. */
  readonly include?: string;
  /** Write the server's PID to `pidFile` (for reloads by SIGHUP from another process). */
  readonly pidFile?: boolean;
}

/**
 * A throwaway nats-server with JetStream (file store under `<root>/nats-<port>`, mode 0700), on
 * a free loopback port, optionally with TLS from a throwaway CA. `stop()`/`start()` keep the
 * store. It runs as the test runner's user (docs/adr/0021: the harness does not switch users).
 */
export class NatsService {
  private process: ManagedProcess | undefined;
  private container: Awaited<ReturnType<typeof startNatsContainer>>['container'] | undefined;

  private constructor(
    private readonly dir: string,
    private readonly configFile: string,
    readonly port: number,
    readonly pki: TestPki | undefined,
    private readonly tlsEnabled = pki !== undefined,
  ) {}

  static async create(root: string, options: NatsOptions = {}): Promise<NatsService> {
    const port = await freePort();
    const dir = join(root, `nats-${port}`);
    // The store is the bus's data: closed to every other user, as under `tools/dev up`.
    mkdirSync(join(dir, 'jetstream'), { recursive: true, mode: 0o700 });
    const lines = [
      `listen: "127.0.0.1:${port}"`,
      `server_name: "pressluft-test-${port}"`,
      `jetstream { store_dir: "${join(dir, 'jetstream')}", max_memory_store: 64MB, max_file_store: 1GB }`,
    ];
    let pki: TestPki | undefined;
    if (options.tls) {
      const given = options.certificates;
      if (!given) pki = await createTestPki();
      writeFileSync(join(dir, 'ca.pem'), given?.caCert ?? pki?.ca.cert ?? '');
      writeFileSync(join(dir, 'server.pem'), given?.serverCert ?? pki?.server.cert ?? '');
      writeFileSync(join(dir, 'server-key.pem'), given?.serverKey ?? pki?.server.key ?? '', { mode: 0o600 });
      const verify = options.tls !== 'mutual' ? 'verify: false' : options.verifyAndMap ? 'verify_and_map: true' : 'verify: true';
      lines.push(
        `tls { cert_file: "${join(dir, 'server.pem')}", key_file: "${join(dir, 'server-key.pem')}", ca_file: "${join(dir, 'ca.pem')}", ${verify}, timeout: 2 }`,
      );
    }
    if (options.pidFile) lines.push(`pid_file: "${join(dir, 'nats.pid')}"`);
    // nats-server resolves an include relative to the including file, even when it is absolute.
    if (options.include) lines.push(`include "${relative(dir, options.include)}"`);
    const configFile = join(dir, 'nats.conf');
    writeFileSync(configFile, `${lines.join('\n')}\n`);
    const service = new NatsService(dir, configFile, port, pki, options.tls !== undefined);
    await service.start();
    return service;
  }

  /** Plain JetStream in a container (when a container runtime answers); stop() removes it. */
  static async inContainer(): Promise<NatsService> {
    const { port, container } = await startNatsContainer();
    const service = new NatsService('', '', port, undefined);
    service.container = container;
    return service;
  }

  get url(): string {
    return `${this.tlsEnabled ? 'tls' : 'nats'}://127.0.0.1:${this.port}`;
  }

  /** The PID file nats-server writes (with the pidFile option). */
  get pidFile(): string {
    return join(this.dir, 'nats.pid');
  }

  /** The server's log (its stdout and stderr). */
  get logFile(): string {
    return join(this.dir, 'nats.log');
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.container) throw new Error('a containerised nats-server cannot be restarted; use PRESSLUFT_HARNESS=binaries');
    if (this.process?.running) return;
    this.process = ManagedProcess.start('nats-server', ['/usr/sbin/nats-server', '-c', this.configFile], {
      logFile: join(this.dir, 'nats.log'),
      cwd: this.dir,
    });
    await this.process.waitUntil(() => portOpen(this.port));
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM');
    await this.container?.stop();
  }
}
