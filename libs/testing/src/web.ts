import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, phpFpmBinary, portOpen } from './host.js';
import { ManagedProcess, run } from './process.js';

/** The Unix user nginx workers and the harness's default PHP-FPM pool run as. */
export const WEB_USER = 'www-data';

/**
 * A private nginx: prefix `<root>/nginx`, a server on a free loopback port answering 404 (the agent's
 * default server, 444, takes over once it writes one), a TLS port on another that refuses every
 * handshake until a site block with a certificate claims the name (the agent's TLS listen),
 * and `sites/*.conf` included so tests (and later the agent) can add server blocks and reload.
 */
export class NginxService {
  private process: ManagedProcess | undefined;

  private constructor(
    readonly prefix: string,
    readonly configFile: string,
    readonly sitesDir: string,
    readonly port: number,
    readonly tlsPort: number,
  ) {}

  static async create(root: string): Promise<NginxService> {
    const prefix = join(root, 'nginx');
    const sitesDir = join(prefix, 'sites');
    for (const d of ['', 'sites', 'temp', 'logs']) mkdirSync(join(prefix, d), { recursive: true });
    const port = await freePort();
    const tlsPort = await freePort();
    const configFile = join(prefix, 'nginx.conf');
    writeFileSync(
      configFile,
      `user ${WEB_USER};
daemon off;
master_process on;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  server_tokens off;
  client_body_temp_path ${join(prefix, 'temp', 'body')};
  proxy_temp_path ${join(prefix, 'temp', 'proxy')};
  fastcgi_temp_path ${join(prefix, 'temp', 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'temp', 'uwsgi')};
  scgi_temp_path ${join(prefix, 'temp', 'scgi')};
  # Until the agent writes the node's default server (default_server, 444) into sites/.
  server {
    listen 127.0.0.1:${port};
    return 404;
  }
  server {
    listen 127.0.0.1:${tlsPort} ssl http2;
    ssl_reject_handshake on;
  }
  include ${sitesDir}/*.conf;
}
`,
    );
    const service = new NginxService(prefix, configFile, sitesDir, port, tlsPort);
    await service.test();
    await service.start();
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  private argv(extra: readonly string[] = []): string[] {
    return ['/usr/sbin/nginx', '-p', this.prefix, '-c', this.configFile, '-e', join(this.prefix, 'logs', 'error.log'), ...extra];
  }

  /** `nginx -t`: rejects with nginx's own message when the configuration is broken. */
  async test(): Promise<void> {
    await run(this.argv(['-t', '-q']));
  }

  async start(): Promise<void> {
    if (this.process?.running) return;
    this.process = ManagedProcess.start('nginx', this.argv(), { logFile: join(this.prefix, 'logs', 'stdout.log'), cwd: this.prefix });
    await this.process.waitUntil(() => portOpen(this.port));
  }

  /** Validates, then reloads gracefully (HUP): in-flight requests finish on the old workers. */
  async reload(): Promise<void> {
    await this.test();
    this.process?.signal('SIGHUP');
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGQUIT');
  }
}

/**
 * A private PHP-FPM master (`-F`, so the PID survives reloads) with pools from `<root>/php-fpm/pool.d`.
 * One default pool `harness` (user www-data) exists because PHP-FPM refuses to start without one.
 */
export class PhpFpmService {
  private process: ManagedProcess | undefined;

  private constructor(
    readonly prefix: string,
    readonly configFile: string,
    readonly poolDir: string,
    readonly defaultSocket: string,
  ) {}

  static async create(root: string): Promise<PhpFpmService> {
    const prefix = join(root, 'php-fpm');
    const poolDir = join(prefix, 'pool.d');
    mkdirSync(poolDir, { recursive: true });
    const defaultSocket = join(prefix, 'harness.sock');
    const configFile = join(prefix, 'php-fpm.conf');
    writeFileSync(
      configFile,
      `[global]
pid = ${join(prefix, 'php-fpm.pid')}
error_log = ${join(prefix, 'php-fpm.log')}
daemonize = no
; with 0, a reload under load answers 502 for in-flight requests
process_control_timeout = 10s
include = ${poolDir}/*.conf
`,
    );
    writeFileSync(
      join(poolDir, 'harness.conf'),
      `[harness]
user = ${WEB_USER}
group = ${WEB_USER}
listen = ${defaultSocket}
listen.owner = ${WEB_USER}
listen.group = ${WEB_USER}
listen.mode = 0660
pm = ondemand
pm.max_children = 2
`,
    );
    const service = new PhpFpmService(prefix, configFile, poolDir, defaultSocket);
    await service.start();
    return service;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.process?.running) return;
    this.process = ManagedProcess.start('php-fpm', [phpFpmBinary(), '-F', '-y', this.configFile, '-p', this.prefix], {
      logFile: join(this.prefix, 'stdout.log'),
      cwd: this.prefix,
    });
    await this.process.waitUntil(() => Promise.resolve(existsSync(this.defaultSocket)));
  }

  /** Graceful reload (USR2): the master keeps its PID and re-reads the pools. */
  reload(): void {
    this.process?.signal('SIGUSR2');
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGQUIT');
  }
}
