import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { chownTo, freePort, postgresBinDir, systemUser } from './host.js';
import { ManagedProcess, run } from './process.js';
import { startPostgresContainer } from './containers.js';

/**
 * A throwaway PostgreSQL cluster: initdb into `<root>/postgres`, the server run as the
 * `postgres` user on a free port (loopback only). Like `tools/dev up` it never trusts a client:
 * scram-sha-256 over TCP and the socket, with a password generated here (in the URLs, which
 * only the tests see); the data and socket dirs are 0700. `stop()`/`start()` keep the data so
 * tests can take the database away and bring it back; the harness removes the directory.
 */
export class PostgresService {
  private process: ManagedProcess | undefined;
  private container: Awaited<ReturnType<typeof startPostgresContainer>>['container'] | undefined;

  private constructor(
    private readonly dataDir: string,
    private readonly socketDir: string,
    private readonly logFile: string,
    readonly port: number,
    private readonly password: string,
  ) {}

  /** The same service in a container (when a container runtime answers); stop() removes it. */
  static async inContainer(): Promise<PostgresService> {
    const password = newPassword();
    const { port, container } = await startPostgresContainer(password);
    const service = new PostgresService('', '', '', port, password);
    service.container = container;
    return service;
  }

  static async create(root: string): Promise<PostgresService> {
    const user = systemUser('postgres');
    const dir = join(root, 'postgres');
    const dataDir = join(dir, 'data');
    const socketDir = join(dir, 'run');
    for (const d of [dir, socketDir]) {
      mkdirSync(d, { recursive: true });
      chownTo(d, user);
      chmodSync(d, 0o700);
    }
    const password = newPassword();
    const passwordFile = join(dir, 'initdb.password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    chownTo(passwordFile, user);
    const bin = postgresBinDir();
    try {
      await run(
        [join(bin, 'initdb'), '-D', dataDir, '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '-U', 'postgres', '-N', '-E', 'UTF8', '--locale=C'],
        { runAs: user, cwd: dir },
      );
    } finally {
      rmSync(passwordFile, { force: true });
    }
    const service = new PostgresService(dataDir, socketDir, join(dir, 'postgres.log'), await freePort(), password);
    await service.start();
    return service;
  }

  get url(): string {
    return this.urlFor('postgres');
  }

  urlFor(database: string): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/${database}`;
  }

  /** The same database over the server's Unix socket (no loopback TCP stack per round trip). */
  socketUrlFor(database: string): string {
    if (!this.socketDir) throw new Error('this PostgreSQL has no local socket');
    return `postgres://postgres:${this.password}@${encodeURIComponent(this.socketDir)}:${this.port}/${database}`;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.container) throw new Error('a containerised PostgreSQL cannot be restarted; use PRESSLUFT_HARNESS=binaries');
    if (this.process?.running) return;
    const user = systemUser('postgres');
    this.process = ManagedProcess.start(
      'postgres',
      [
        join(postgresBinDir(), 'postgres'),
        '-D', this.dataDir,
        '-p', String(this.port),
        '-k', this.socketDir,
        '-c', 'listen_addresses=127.0.0.1',
        // Throwaway data: durability against an OS crash buys nothing here.
        '-c', 'fsync=off',
        '-c', 'full_page_writes=off',
        '-c', 'max_connections=200',
      ],
      { logFile: this.logFile, runAs: user, cwd: this.dataDir },
    );
    await this.process.waitUntil(() => this.query('postgres', 'SELECT 1').then(() => true));
  }

  /** Fast shutdown (SIGINT): connections are cut, data stays. */
  async stop(): Promise<void> {
    await this.process?.stop('SIGINT');
    await this.container?.stop();
  }

  async createDatabase(name: string): Promise<string> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
    await this.query('postgres', `CREATE DATABASE "${name}"`);
    return this.urlFor(name);
  }

  query(database: string, sql: string): Promise<pg.QueryResult> {
    return pgQuery(this.urlFor(database), sql);
  }
}

/** URL-safe (base64url), so it goes into a connection URL as it is. */
function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** One statement on a fresh connection (tests and setup only; the app has its own pool). */
export async function pgQuery(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh database on a running server (e.g. the run-wide one), dropped again by `drop()`. */
export async function createTestDatabase(serverUrl: string, prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.replace(/[^a-z0-9_]/g, '_');
  await pgQuery(serverUrl, `CREATE DATABASE "${name}"`);
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  return { url, drop: () => pgQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).then(() => undefined) };
}
