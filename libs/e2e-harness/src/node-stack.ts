import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createTestDatabase, freePort, HARNESS_DIR_PREFIX, ManagedProcess, NatsService, type NginxService, type SharedServices, type TestDatabase, repoRoot } from '@pressluft/testing';
import { api, type ApiRequest, type ApiResponse } from './api-client.js';
import { until, V1, type ApiObject, type ControlPlaneProcesses, type ControlPlaneReplica } from './control-plane.process.js';
import { writeKubeconfig } from './kubeconfig.js';

const REPO = repoRoot(__dirname);

/** The agent's (by then empty) per-test cgroup parent dirs, wherever the hierarchy put them. */
export function removeCgroupPrefix(prefix: string): void {
  const visit = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name === prefix) {
        try {
          rmdirSync(join(dir, name)); // cgroup dirs go with rmdir, only when empty
        } catch {
          // still holds a site's cgroup: left for the operator to see
        }
      } else if (depth > 0) visit(join(dir, name), depth - 1);
    }
  };
  for (const hierarchy of ['memory', 'cpu', 'unified']) visit(join('/sys/fs/cgroup', hierarchy), 3);
}

/** One real node agent process (the compiled apps/agent), its files and its log. */
export interface AgentProcess {
  readonly node: string;
  readonly process: ManagedProcess;
  readonly stateDir: string;
  readonly sitesRoot: string;
  readonly cgroupPrefix: string;
}

/**
 * The whole system on one machine, as `tools/dev up` runs it but on throwaway ports and dirs:
 * the control plane process (engine, HTTPS for kubectl, enrollment gRPC), its own nats-server with
 * mutual TLS and per-node authorization from the control plane's CA, the shared MariaDB and nginx
 * of the harness, and real agents that enroll with a join token.
 */
export class NodeStack {
  private readonly agents: AgentProcess[] = [];

  private constructor(
    readonly root: string,
    readonly processes: ControlPlaneProcesses,
    readonly services: SharedServices,
    readonly database: TestDatabase,
    readonly nats: NatsService,
    readonly replica: ControlPlaneReplica,
    readonly pkiDir: string,
    readonly grpcPort: number,
    readonly kubeconfig: string,
  ) {}

  /** `options.env`: more control-plane settings (e.g. the ACME directory and DNS servers of a test). */
  static async start(processes: ControlPlaneProcesses, services: SharedServices, label: string, options: { readonly env?: Readonly<Record<string, string>> } = {}): Promise<NodeStack> {
    const root = mkdtempSync(join(tmpdir(), `${HARNESS_DIR_PREFIX}stack-`));
    chmodSync(root, 0o755); // site users and www-data traverse into sites/
    const database = await createTestDatabase(services.postgres.url, label);
    let nats: NatsService | undefined;
    try {
      const pkiDir = join(root, 'pki');
      const authzFile = join(root, 'nats-authz.conf');
      // The BackupStore `local` a site without spec.backup.store uses (restic repository on this machine).
      const env = { PRESSLUFT_PKI_DIR: pkiDir, PRESSLUFT_NATS_AUTHZ_FILE: authzFile, PRESSLUFT_DEFAULT_BACKUP_REPOSITORY: join(root, 'backups') };
      const tlsDir = join(root, 'nats-tls');
      // The NATS server's TLS files from the control plane's CA, written as `tools/dev up` does.
      await processes.command(['pki', 'nats-server', '--out', tlsDir], { ...env, PRESSLUFT_NATS_URL: 'tls://127.0.0.1:4222' });
      const file = (name: string) => readFileSync(join(tlsDir, name), 'utf8');
      nats = await NatsService.create(root, {
        tls: 'mutual',
        verifyAndMap: true,
        certificates: { caCert: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server-key.pem') },
        include: authzFile,
        pidFile: true,
      });
      const [grpcPort, httpsPort] = [await freePort(), await freePort()];
      const replica = await processes.spawn({
        name: label,
        databaseUrl: database.url,
        natsUrl: nats.url,
        env: {
          ...env,
          PRESSLUFT_NATS_PID_FILE: nats.pidFile,
          PRESSLUFT_GRPC_PORT: String(grpcPort),
          PRESSLUFT_HTTPS_PORT: String(httpsPort),
          PRESSLUFT_HEARTBEAT_TIMEOUT_MS: '15000',
          // The tests' repositories are local, as the agents below allow.
          PRESSLUFT_GIT_ALLOW_LOCAL: 'true',
          ...options.env,
        },
      });
      const kubeconfig = writeKubeconfig(root, { server: `https://127.0.0.1:${httpsPort}`, caCert: readFileSync(join(pkiDir, 'ca.pem'), 'utf8'), token: processes.adminToken });
      return new NodeStack(root, processes, services, database, nats, replica, pkiDir, grpcPort, kubeconfig);
    } catch (error) {
      await nats?.stop();
      await database.drop();
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  /** Where the harness nginx serves sites (agents' server blocks listen here). */
  get sitesPort(): number {
    return this.services.nginx.port;
  }

  call<T = ApiObject>(path: string, options: ApiRequest = {}): Promise<ApiResponse<T>> {
    return api<T>(this.replica.url, path, { token: this.processes.adminToken, ...options });
  }

  /**
   * An agent for `node`: a one-time join token from the API, then the real agent process enrolls
   * (again under the same node name: it finds its stored identity and keeps it). `nginx`: a
   * private nginx instead of the harness's shared one (the agent keeps it running, by its pid
   * file); `env`: more settings.
   */
  async startAgent(node: string, options: { readonly nginx?: NginxService; readonly env?: Readonly<Record<string, string>> } = {}): Promise<AgentProcess> {
    const token = await this.call<{ token: string }>('/auth/v1/jointokens', { method: 'POST', body: { node, ttlSeconds: 600 } });
    if (token.status !== 201) throw new Error(`POST /auth/v1/jointokens answered ${token.status}: ${token.text}`);
    const dir = join(this.root, `agent-${node}`);
    const stateDir = join(dir, 'state');
    const sitesRoot = join(dir, 'sites');
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    mkdirSync(sitesRoot, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    chmodSync(sitesRoot, 0o755);
    writeFileSync(join(dir, 'join-token'), `${token.body.token}\n`, { mode: 0o600 });
    const nginx = options.nginx ?? this.services.nginx;
    const nginxPrefix = dirname(nginx.sitesDir);
    const cgroupPrefix = `pressluft-e2e-${randomBytes(4).toString('hex')}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      NODE_PATH: join(REPO, 'node_modules'),
      PRESSLUFT_DIST_DIR: this.processes.distDir,
      PRESSLUFT_LOG_LEVEL: 'info',
      PRESSLUFT_AGENT_NODE: node,
      PRESSLUFT_AGENT_STATE_DIR: stateDir,
      PRESSLUFT_AGENT_ENROLL_ENDPOINT: `127.0.0.1:${this.grpcPort}`,
      PRESSLUFT_AGENT_CA_FILE: join(this.pkiDir, 'ca.pem'),
      PRESSLUFT_AGENT_JOIN_TOKEN_FILE: join(dir, 'join-token'),
      PRESSLUFT_AGENT_SITES_ROOT: sitesRoot,
      PRESSLUFT_AGENT_TEMPLATES_DIR: join(REPO, 'templates'),
      PRESSLUFT_AGENT_NGINX_COMMAND: JSON.stringify(['/usr/sbin/nginx', '-p', nginxPrefix, '-c', join(nginxPrefix, 'nginx.conf'), '-e', join(nginxPrefix, 'logs', 'error.log')]),
      PRESSLUFT_AGENT_NGINX_SITES_DIR: nginx.sitesDir,
      PRESSLUFT_AGENT_NGINX_LISTEN: `127.0.0.1:${nginx.port}`,
      ...(options.nginx ? { PRESSLUFT_AGENT_NGINX_PID_FILE: join(nginxPrefix, 'nginx.pid') } : {}),
      PRESSLUFT_AGENT_MARIADB_COMMAND: JSON.stringify(['/usr/bin/mariadb', `--defaults-file=${this.services.mariadb.defaultsFile}`]),
      PRESSLUFT_AGENT_MARIADB_SOCKET: this.services.mariadb.socket,
      PRESSLUFT_AGENT_WP_CLI: JSON.stringify(['/usr/bin/php', join(REPO, 'tools/wp-cli/wp')]),
      PRESSLUFT_AGENT_CGROUP_PREFIX: cgroupPrefix,
      PRESSLUFT_AGENT_CGROUP_RELATIVE_TO: 'self',
      PRESSLUFT_AGENT_GIT_ALLOW_LOCAL: 'true',
      PRESSLUFT_AGENT_HEARTBEAT_MS: '1000',
      PRESSLUFT_AGENT_REPORT_MS: '5000',
      PRESSLUFT_AGENT_PROBE_MS: '2000',
      ...options.env,
    };
    const child = ManagedProcess.start(`agent ${node}`, [process.execPath, '-r', join(REPO, 'tools/runtime/register-paths.cjs'), join(this.processes.distDir, 'apps/agent/src/main.js')], {
      logFile: join(dir, 'agent.log'),
      cwd: dir,
      env,
    });
    const agent: AgentProcess = { node, process: child, stateDir, sitesRoot, cgroupPrefix };
    this.agents.push(agent);
    return agent;
  }

  async waitNodeReady(node: string, timeoutMs = 30_000): Promise<ApiObject> {
    return until(
      `node ${node} Ready`,
      async () => {
        const response = await this.call(`${V1}/nodes/${node}`);
        return response.body.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? response.body : undefined;
      },
      timeoutMs,
      () => this.explain(),
    );
  }

  async site(name: string): Promise<ApiObject | undefined> {
    const response = await this.call(`${V1}/sites/${name}`);
    return response.status === 200 ? response.body : undefined;
  }

  /** Waits until the site is ACTIVE with Ready=True. */
  waitSiteReady(name: string, timeoutMs = 60_000): Promise<ApiObject> {
    return until(
      `site ${name} ACTIVE and Ready`,
      async () => {
        const site = await this.site(name);
        const ready = site?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return site?.status.phase === 'ACTIVE' && ready ? site : undefined;
      },
      timeoutMs,
      async () => `${JSON.stringify(await this.site(name).catch(() => undefined))}\n${this.explain()}`,
    );
  }

  waitSiteGone(name: string, timeoutMs = 60_000): Promise<true> {
    return until(`site ${name} deleted`, async () => ((await this.call(`${V1}/sites/${name}`)).status === 404 ? true : undefined), timeoutMs, () => this.explain());
  }

  /** The control plane's own NATS connection (the client certificate it issued itself at start: every permission). */
  bus(): Promise<NatsConnection> {
    const file = (name: string) => readFileSync(join(this.pkiDir, name), 'utf8');
    return connect({ servers: this.nats.url, reconnect: false, timeout: 3000, tls: { ca: file('ca.pem'), cert: file('nats-client.pem'), key: file('nats-client-key.pem') } });
  }

  /** Publishes raw bytes on a node's command subject as the outbox relay would. */
  async publishCommand(node: string, payload: Uint8Array, msgID: string): Promise<void> {
    const nc = await this.bus();
    try {
      await jetstream(nc).publish(`pressluft.cmd.${node}`, payload, { msgID });
    } finally {
      await nc.close();
    }
  }

  explain(): string {
    return [`control plane log:\n${this.replica.logTail(20)}`, ...this.agents.map((a) => `agent ${a.node} log:\n${a.process.logTail(30)}`)].join('\n');
  }

  async stopAgent(agent: AgentProcess): Promise<void> {
    await agent.process.stop('SIGTERM', 10_000);
    removeCgroupPrefix(agent.cgroupPrefix);
  }

  /** Stops agents, the replica and NATS by PID; drops the database; removes the dir. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.agents.splice(0).map((a) => this.stopAgent(a)));
    await this.processes.stopReplicas();
    await this.nats.stop();
    await this.database.drop();
    rmSync(this.root, { recursive: true, force: true });
  }
}
