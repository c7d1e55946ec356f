import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { COMMAND_STREAM, commandSubject, EVENT_STREAM, type FaultPoint, INGEST_CONSUMER } from '@pressluft/platform';
import { createTestDatabase, freePort, ManagedProcess, pgQuery, run, sleep, type TestDatabase, repoRoot } from '@pressluft/testing';
import { parse as parseYaml } from 'yaml';
import { api, type ApiRequest, type ApiResponse } from './api-client.js';
import { TestAgent } from './test-agent.js';

/** The repository root (this file is libs/e2e-harness/src/). */
const REPO = repoRoot(__dirname);

/** Short engine timings for the fault tests: a lost leader is replaced within seconds. */
export const FAST_ENGINE_ENV: Readonly<Record<string, string>> = {
  PRESSLUFT_LEASE_TTL_MS: '3000',
  PRESSLUFT_LEASE_RENEW_MS: '300',
  PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '10000',
  PRESSLUFT_STALL_WINDOW_MS: '120000',
  PRESSLUFT_RESYNC_MS: '5000',
  PRESSLUFT_READY_TIMEOUT_MS: '1000',
};

export interface ReplicaOptions {
  /** Shown in the log file name and in failures. */
  readonly name: string;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** PRESSLUFT_FAULT: the process SIGKILLs itself when it reaches this point. */
  readonly fault?: FaultPoint;
  /** Extra or overriding PRESSLUFT_* settings. */
  readonly env?: Readonly<Record<string, string>>;
  /** Wait for /readyz 200 before returning (default true). */
  readonly waitReady?: boolean;
}

/**
 * One control plane replica as a real OS process (the compiled runtime), so a test can SIGKILL,
 * SIGSTOP and SIGCONT it. Stopped by its PID; its pino log goes to `logFile`.
 */
export class ControlPlaneReplica {
  private paused = false;

  constructor(
    readonly name: string,
    readonly url: string,
    private readonly process: ManagedProcess,
  ) {}

  get pid(): number {
    return this.process.pid;
  }

  get logFile(): string {
    return this.process.logFile;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** The whole log so far (pino JSON lines). */
  log(): string {
    try {
      return readFileSync(this.process.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The log's JSON lines, parsed (non-JSON lines are skipped). */
  logLines(): Array<Record<string, unknown>> {
    return this.log()
      .split('\n')
      .flatMap((line) => {
        try {
          return line.startsWith('{') ? [JSON.parse(line) as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
  }

  logTail(lines = 30): string {
    return this.process.logTail(lines);
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    await this.process.waitUntil(async () => (await api(this.url, '/readyz')).status === 200, timeoutMs);
  }

  /** Waits for the process to exit on its own (a fault point); fails with the log tail otherwise. */
  async waitExit(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.process.running) {
      if (Date.now() > deadline) throw new Error(`${this.name} (pid ${this.pid}) did not exit within ${timeoutMs} ms:\n${this.logTail()}`);
      await sleep(50);
    }
  }

  /** SIGKILL: no shutdown hooks, no lease hand-over, open transactions cut. */
  async kill(): Promise<void> {
    if (!this.process.running) return;
    this.process.signal('SIGKILL');
    await this.waitExit(10_000);
  }

  /** SIGSTOP: the process keeps its sockets but runs nothing (a long GC pause, a frozen VM). */
  pause(): void {
    this.process.signal('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.process.signal('SIGCONT');
    this.paused = false;
  }

  /** SIGTERM (graceful: Nest shutdown hooks run), SIGKILL after the timeout. Idempotent. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.paused) this.resume();
    await this.process.stop('SIGTERM', timeoutMs);
  }

  async metrics(): Promise<string> {
    const response = await api(this.url, '/metrics');
    if (response.status !== 200) throw new Error(`${this.name} /metrics answered ${response.status}`);
    return response.text;
  }

  /** The pressluft_leader gauge (1 while this replica holds the lease), undefined when unreachable. */
  async leaderGauge(): Promise<number | undefined> {
    try {
      const match = /^pressluft_leader (\d+(?:\.\d+)?)$/m.exec(await this.metrics());
      return match?.[1] === undefined ? undefined : Number(match[1]);
    } catch {
      return undefined;
    }
  }

  /** Whether a lease holder identity (`<host>-<pid>-<random>`) names this process. */
  holds(holder: string | undefined): boolean {
    return holder !== undefined && holder.includes(`-${this.pid}-`);
  }
}

/**
 * The compiled control plane and the replicas started from it. `build()` once per test file
 * (in beforeAll, ~10 s): tsc into a temp dir; `spawn()` starts replicas; `stop()` stops every
 * replica by PID (resuming paused ones first) and removes the temp dir.
 */
export class ControlPlaneProcesses {
  private readonly replicas: ControlPlaneReplica[] = [];
  private counter = 0;

  private constructor(
    readonly dir: string,
    readonly adminToken: string,
    private readonly adminTokenFile: string,
  ) {}

  static async build(): Promise<ControlPlaneProcesses> {
    const dir = mkdtempSync(join(tmpdir(), 'pressluft-cp-proc-'));
    try {
      await run([join(REPO, 'node_modules/.bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { cwd: REPO });
      const adminToken = `plt_${randomBytes(32).toString('base64url')}`;
      const adminTokenFile = join(dir, 'admin.token');
      writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
      mkdirSync(join(dir, 'logs'));
      return new ControlPlaneProcesses(dir, adminToken, adminTokenFile);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get distDir(): string {
    return join(this.dir, 'dist');
  }

  /** `node main.js <args>` of the compiled control plane with the workspace aliases resolved. */
  private argv(args: readonly string[] = []): string[] {
    return [process.execPath, '-r', join(REPO, 'tools/runtime/register-paths.cjs'), join(this.distDir, 'apps/control-plane/src/main.js'), ...args];
  }

  /** The environment every compiled control plane process starts from (nothing of this process's PRESSLUFT_*). */
  private baseEnv(): NodeJS.ProcessEnv {
    return {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: process.env['HOME'] ?? this.dir,
      LANG: 'C.UTF-8',
      // The compiled files live outside the repository: packages resolve from its node_modules.
      NODE_PATH: join(REPO, 'node_modules'),
      PRESSLUFT_DIST_DIR: this.distDir,
    };
  }

  /** Runs a command of the compiled control plane to completion (`pki nats-server ...`, as tools/dev does); its stdout. */
  command(args: readonly string[], env: Readonly<Record<string, string>>): Promise<string> {
    return run(this.argv(args), { cwd: this.dir, env: { ...this.baseEnv(), ...env } });
  }

  async spawn(options: ReplicaOptions): Promise<ControlPlaneReplica> {
    const port = await freePort();
    const index = ++this.counter;
    const env: NodeJS.ProcessEnv = {
      ...this.baseEnv(),
      PRESSLUFT_DATABASE_URL: options.databaseUrl,
      PRESSLUFT_NATS_URL: options.natsUrl,
      PRESSLUFT_HTTP_HOST: '127.0.0.1',
      PRESSLUFT_HTTP_PORT: String(port),
      PRESSLUFT_HTTPS_PORT: 'off',
      PRESSLUFT_GRPC_PORT: 'off',
      PRESSLUFT_PKI_DIR: join(this.dir, `pki-${index}`),
      PRESSLUFT_ADMIN_TOKEN_FILE: this.adminTokenFile,
      PRESSLUFT_LOG_LEVEL: 'info',
      PRESSLUFT_ENGINE: 'true',
      // No DNS readiness lookups (a test that shows them passes its own servers).
      PRESSLUFT_DNS_SERVERS: 'none',
      // Tests never order from Let's Encrypt: a test that wants ACME names its directory (Pebble).
      PRESSLUFT_ACME_DIRECTORY_URL: 'none',
      ...FAST_ENGINE_ENV,
      ...(options.fault ? { PRESSLUFT_FAULT: options.fault } : {}),
      ...options.env,
    };
    const logFile = join(this.dir, 'logs', `${index}-${options.name}.log`);
    const child = ManagedProcess.start(`control plane ${options.name}`, this.argv(), { logFile, cwd: this.dir, env });
    const replica = new ControlPlaneReplica(options.name, `http://127.0.0.1:${port}`, child);
    this.replicas.push(replica);
    if (options.waitReady ?? true) await replica.waitReady();
    return replica;
  }

  /** Stops every replica still running (SIGCONT first, then SIGTERM, SIGKILL after 10 s). */
  async stopReplicas(): Promise<void> {
    const replicas = this.replicas.splice(0);
    await Promise.allSettled(replicas.map((r) => r.stop()));
  }

  async stop(): Promise<void> {
    await this.stopReplicas();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` and `explain()` after the deadline. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, explain?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `:\n${await explain()}` : ''}`);
    await sleep(100);
  }
}

export const V1 = '/apis/pressluft.io/v1';

/** What the fault tests read back from the API. */
export interface ApiObject {
  metadata: { name: string; generation: number; finalizers: string[]; resourceVersion: string; uid?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  status: {
    phase?: string;
    observedGeneration?: number;
    nodeName?: string;
    fence?: number;
    state?: string;
    log?: string[];
    conditions?: Array<{ type: string; status: string; reason: string }>;
  };
}

export function siteManifest(name: string, node: string): Record<string, unknown> {
  const base = parseYaml(readFileSync(join(REPO, 'examples/site.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  return { apiVersion: 'pressluft.io/v1', kind: 'Site', metadata: { name }, spec: { ...base.spec, nodeName: node, domains: [`${name}.example.test`] } };
}

export function nodeManifest(name: string): Record<string, unknown> {
  return { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name }, spec: { provider: 'static' } };
}

export interface LeaseRow {
  readonly holder: string;
  readonly epoch: number;
  readonly expired: boolean;
}

export interface CommandRow {
  readonly name: string;
  readonly fence: number;
  readonly state: string;
  readonly log: string[];
  readonly resourceVersion: string;
}

/**
 * One test's world on shared services: its own database (dropped in `cleanup()`), replicas
 * started against it, test agents, and read-outs of the end state through SQL and JetStream.
 */
export class EngineScenario {
  private readonly agents: TestAgent[] = [];

  private constructor(
    readonly processes: ControlPlaneProcesses,
    readonly database: TestDatabase,
    readonly natsUrl: string,
  ) {}

  static async create(processes: ControlPlaneProcesses, postgresUrl: string, natsUrl: string, label: string): Promise<EngineScenario> {
    return new EngineScenario(processes, await createTestDatabase(postgresUrl, label), natsUrl);
  }

  spawn(name: string, options: Omit<ReplicaOptions, 'name' | 'databaseUrl' | 'natsUrl'> = {}): Promise<ControlPlaneReplica> {
    return this.processes.spawn({ name, databaseUrl: this.database.url, natsUrl: this.natsUrl, ...options });
  }

  call<T = ApiObject>(replica: ControlPlaneReplica, path: string, options: ApiRequest = {}): Promise<ApiResponse<T>> {
    return api<T>(replica.url, path, { token: this.processes.adminToken, ...options });
  }

  async create(replica: ControlPlaneReplica, plural: 'sites' | 'nodes', manifest: Record<string, unknown>): Promise<void> {
    const response = await this.call(replica, `${V1}/${plural}`, { method: 'POST', body: manifest });
    if (response.status !== 201) throw new Error(`POST ${plural} answered ${response.status}: ${response.text}`);
  }

  async site(replica: ControlPlaneReplica, name: string): Promise<ApiObject | undefined> {
    const response = await this.call(replica, `${V1}/sites/${name}`);
    return response.status === 200 ? response.body : undefined;
  }

  /** Waits until the site is ACTIVE (through `replica`'s API) and returns it. */
  waitActive(replica: ControlPlaneReplica, name: string, timeoutMs = 20_000): Promise<ApiObject> {
    return until(
      `site ${name} ACTIVE`,
      async () => {
        const site = await this.site(replica, name);
        return site?.status.phase === 'ACTIVE' ? site : undefined;
      },
      timeoutMs,
      async () => `${JSON.stringify(await this.site(replica, name).catch(() => undefined))}\n${replica.name} log:\n${replica.logTail()}`,
    );
  }

  /** Waits until the node has Ready=True (its agent's heartbeats were ingested). */
  waitNodeReady(replica: ControlPlaneReplica, name: string, timeoutMs = 20_000): Promise<ApiObject> {
    return until(
      `node ${name} Ready`,
      async () => {
        const response = await this.call(replica, `${V1}/nodes/${name}`);
        return response.body.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? response.body : undefined;
      },
      timeoutMs,
      () => replica.logTail(),
    );
  }

  async startAgent(node: string): Promise<TestAgent> {
    const agent = await TestAgent.start(this.natsUrl, node, { heartbeatMs: 300 });
    this.agents.push(agent);
    return agent;
  }

  async stopAgent(agent: TestAgent): Promise<void> {
    const index = this.agents.indexOf(agent);
    if (index >= 0) this.agents.splice(index, 1);
    await agent.stop();
  }

  async sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await pgQuery(this.database.url, text, params)).rows as T[];
  }

  /** Every Command of a site, by fence, straight from the state store. */
  commands(site: string): Promise<CommandRow[]> {
    return this.sql<CommandRow>(
      `SELECT name, (spec ->> 'fence')::int AS fence, status ->> 'state' AS state, status -> 'log' AS log, resource_version::text AS "resourceVersion"
         FROM resources WHERE kind = 'Command' AND spec ->> 'site' = $1 ORDER BY (spec ->> 'fence')::int`,
      [site],
    );
  }

  async outbox(command: string): Promise<Array<{ sent: boolean }>> {
    return this.sql<{ sent: boolean }>(`SELECT sent_at IS NOT NULL AS sent FROM outbox WHERE command = $1`, [command]);
  }

  async lease(): Promise<LeaseRow | undefined> {
    const rows = await this.sql<LeaseRow>(`SELECT holder, epoch::int AS epoch, expires_at <= now() AS expired FROM leases WHERE name = 'controller'`);
    return rows[0];
  }

  /** Messages JetStream stored on the node's command subject (a deduplicated republish adds none). */
  async storedCommands(node: string): Promise<number> {
    const nc = await connect({ servers: this.natsUrl, reconnect: false, timeout: 2000 });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(COMMAND_STREAM, { subjects_filter: commandSubject(node) });
      return info.state.subjects?.[commandSubject(node)] ?? 0;
    } finally {
      await nc.close();
    }
  }

  /** The control plane's event consumer: messages not yet delivered and delivered but unacknowledged. */
  async ingestBacklog(): Promise<{ pending: number; ackPending: number; redelivered: number }> {
    const nc = await connect({ servers: this.natsUrl, reconnect: false, timeout: 2000 });
    try {
      const info = await (await jetstreamManager(nc)).consumers.info(EVENT_STREAM, INGEST_CONSUMER);
      return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
    } finally {
      await nc.close();
    }
  }

  /** Stops the agents and every replica, then drops the database. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.agents.splice(0).map((a) => a.stop()));
    await this.processes.stopReplicas();
    await this.database.drop();
  }
}
