import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, portOpen } from './host.js';
import { ManagedProcess } from './process.js';
import { createTestPki, type TestPki } from './tls.js';
import { startNatsContainer } from './containers.js';

export interface NatsOptions {
  /** 'mutual': clients must present a certificate signed by the test CA. */
  readonly tls?: 'server' | 'mutual';
}

/**
 * A throwaway nats-server with JetStream (file store under `<root>/nats-<port>`), on a free
 * loopback port, optionally with TLS from a throwaway CA. `stop()`/`start()` keep the store.
 */
export class NatsService {
  private process: ManagedProcess | undefined;
  private container: Awaited<ReturnType<typeof startNatsContainer>>['container'] | undefined;

  private constructor(
    private readonly dir: string,
    private readonly configFile: string,
    readonly port: number,
    readonly pki: TestPki | undefined,
  ) {}

  static async create(root: string, options: NatsOptions = {}): Promise<NatsService> {
    const port = await freePort();
    const dir = join(root, `nats-${port}`);
    mkdirSync(join(dir, 'jetstream'), { recursive: true });
    const lines = [
      `listen: "127.0.0.1:${port}"`,
      `server_name: "pressluft-test-${port}"`,
      `jetstream { store_dir: "${join(dir, 'jetstream')}", max_memory_store: 64MB, max_file_store: 1GB }`,
    ];
    let pki: TestPki | undefined;
    if (options.tls) {
      pki = await createTestPki();
      writeFileSync(join(dir, 'ca.pem'), pki.ca.cert);
      writeFileSync(join(dir, 'server.pem'), pki.server.cert);
      writeFileSync(join(dir, 'server-key.pem'), pki.server.key, { mode: 0o600 });
      lines.push(
        `tls { cert_file: "${join(dir, 'server.pem')}", key_file: "${join(dir, 'server-key.pem')}", ca_file: "${join(dir, 'ca.pem')}", verify: ${options.tls === 'mutual'}, timeout: 2 }`,
      );
    }
    const configFile = join(dir, 'nats.conf');
    writeFileSync(configFile, `${lines.join('\n')}\n`);
    const service = new NatsService(dir, configFile, port, pki);
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
    return `${this.pki ? 'tls' : 'nats'}://127.0.0.1:${this.port}`;
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
