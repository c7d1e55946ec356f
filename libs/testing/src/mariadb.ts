import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chownTo, freePort, systemUser } from './host.js';
import { ManagedProcess, run } from './process.js';

/**
 * A throwaway MariaDB server: data, socket and log under `<root>/mariadb`, on a free loopback
 * port, run as `mysql`. root@localhost authenticates by unix socket, so no password exists.
 */
export class MariaDbService {
  private process: ManagedProcess | undefined;

  private constructor(
    private readonly dir: string,
    readonly defaultsFile: string,
    readonly socket: string,
    readonly port: number,
  ) {}

  static async create(root: string): Promise<MariaDbService> {
    const user = systemUser('mysql');
    const dir = join(root, 'mariadb');
    const dataDir = join(dir, 'data');
    const tmpDir = join(dir, 'tmp');
    for (const d of [dir, dataDir, tmpDir]) {
      mkdirSync(d, { recursive: true });
      chownTo(d, user);
    }
    const port = await freePort();
    const socket = join(dir, 'mysqld.sock');
    const defaultsFile = join(dir, 'my.cnf');
    writeFileSync(
      defaultsFile,
      [
        '[mysqld]',
        `datadir=${dataDir}`,
        // Its own: the inherited TMPDIR may not be writable by mysql.
        `tmpdir=${tmpDir}`,
        `socket=${socket}`,
        `port=${port}`,
        'bind-address=127.0.0.1',
        `pid-file=${join(dir, 'mysqld.pid')}`,
        `log-error=${join(dir, 'error.log')}`,
        'user=mysql',
        'skip-name-resolve',
        'innodb_buffer_pool_size=32M',
        'innodb_flush_log_at_trx_commit=2',
        '[client]',
        `socket=${socket}`,
        'user=root',
        '',
      ].join('\n'),
    );
    await run(['/usr/bin/mariadb-install-db', `--defaults-file=${defaultsFile}`, '--user=mysql', '--auth-root-authentication-method=socket', '--skip-test-db'], { cwd: dir });
    const service = new MariaDbService(dir, defaultsFile, socket, port);
    await service.start();
    return service;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.process?.running) return;
    this.process = ManagedProcess.start('mariadbd', ['/usr/sbin/mariadbd', `--defaults-file=${this.defaultsFile}`], {
      logFile: join(this.dir, 'stdout.log'),
      cwd: this.dir,
    });
    await this.process.waitUntil(() => this.query('SELECT 1').then(() => true));
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM', 20_000);
  }

  /** Runs SQL as root over the socket; the statement goes on stdin, never in argv. Tab-separated rows. */
  async query(sql: string): Promise<string[][]> {
    const out = await run(['/usr/bin/mariadb', `--defaults-file=${this.defaultsFile}`, '--batch', '--skip-column-names'], { input: sql });
    return out
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => line.split('\t'));
  }
}
