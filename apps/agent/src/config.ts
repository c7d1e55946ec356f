import { DEFAULT_BLOCKED_NETWORKS, DEFAULT_RESTART_POLICY } from '@pressluft/domain';
import { DEFAULT_CRON_MS } from '@pressluft/agent-runtime';
import { loadConfig } from '@pressluft/platform';
import { z } from 'zod';
import { DEFAULT_GIT_LIMITS } from './host/git.js';
import { DEFAULT_CRON_TIMEOUT_MS } from './host/operations/cron.js';
import type { HostSettings } from './host/settings.js';

const absolute = (fallback: string) => z.string().startsWith('/', { message: 'must be an absolute path' }).default(fallback);
const NODE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LISTEN = /^([0-9]{1,3}(\.[0-9]{1,3}){3}:)?[0-9]{1,5}$/;
/** An http(s) base URL without credentials, query or fragment (a trailing slash is dropped). */
const serviceUrl = () =>
  z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .refine((value) => {
      const url = URL.parse(value);
      return url !== null && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
    }, 'must be an http(s) URL without credentials, query or fragment')
    .transform((value) => value.replace(/\/+$/, ''))
    .optional();

/** An argv prefix as a JSON array of strings (paths may hold spaces; never split by a shell). */
const parseArgv = (value: string, ctx: z.RefinementCtx): string[] => {
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((p) => typeof p === 'string' && p.length > 0) && (parsed[0] as string).startsWith('/')) {
      return parsed as string[];
    }
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: 'must be a JSON array of strings whose first element is an absolute path, like ["/usr/sbin/nginx"]' });
  return z.NEVER;
};
const argv = (fallback: readonly string[]) => z.string().default(JSON.stringify(fallback)).transform(parseArgv);
const optionalArgv = () => z.string().optional().transform((value, ctx) => (value === undefined ? undefined : parseArgv(value, ctx)));

const schema = z.object({
  PRESSLUFT_AGENT_NODE: z.string({ message: 'is required: the name of this node' }).regex(NODE_NAME, { message: 'must be a DNS label like web-1' }),
  PRESSLUFT_AGENT_STATE_DIR: absolute('/var/lib/pressluft-agent'),
  PRESSLUFT_AGENT_ENROLL_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,253}:[0-9]{1,5}$/, { message: 'must be host:port of the control plane gRPC listener' })
    .default('127.0.0.1:8444'),
  PRESSLUFT_AGENT_CA_FILE: absolute('/etc/pressluft/ca.pem'),
  PRESSLUFT_AGENT_JOIN_TOKEN_FILE: absolute('/etc/pressluft/join-token'),
  PRESSLUFT_AGENT_SITES_ROOT: absolute('/var/www/sites'),
  PRESSLUFT_AGENT_WORDPRESS_SOURCE: absolute('/usr/share/wordpress'),
  /** The repository's templates/ (default: found next to the agent's code). */
  PRESSLUFT_AGENT_TEMPLATES_DIR: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  PRESSLUFT_AGENT_NGINX_COMMAND: argv(['/usr/sbin/nginx']),
  PRESSLUFT_AGENT_NGINX_SITES_DIR: absolute('/etc/nginx/pressluft'),
  PRESSLUFT_AGENT_NGINX_LISTEN: z.string().regex(LISTEN, { message: 'must be a port or address:port like 127.0.0.1:8081' }).default('80'),
  /**
   * Where site server blocks serve HTTPS (by SNI) once a site has a certificate: 443 on a
   * production node, 127.0.0.1:8082 on the local system. Unset: the node serves HTTP only and
   * IssueCertificate fails with TlsUnavailable.
   */
  PRESSLUFT_AGENT_SITES_TLS_LISTEN: z.string().regex(LISTEN, { message: 'must be a port or address:port like 127.0.0.1:8082' }).optional(),
  /** The HTTPS port clients use (redirects and WordPress's URLs name it unless 443); default: SITES_TLS_LISTEN's port. */
  PRESSLUFT_AGENT_HTTPS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  /**
   * ACME. The agent trusts the CAs Node trusts: an ACME server behind another CA (Pebble's
   * listener, a private CA) is trusted through Node's own NODE_EXTRA_CA_CERTS=<PEM file> in the
   * agent's environment (read at process start); there is no ACME CA setting of its own.
   * CHALLTESTSRV_URL: Pebble's challenge test server's management API, the `challtestsrv` dns-01
   * provider (tests, `tools/dev up`); unset: that provider is unavailable on this node.
   */
  PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL: serviceUrl(),
  /** The Cloudflare API base of the `cloudflare` dns-01 provider (default https://api.cloudflare.com/client/v4). */
  PRESSLUFT_AGENT_CLOUDFLARE_API_URL: serviceUrl(),
  /** The node's public addresses (where its sites' domains must point), comma-separated IPs; reported in every NodeReport. */
  PRESSLUFT_AGENT_PUBLIC_ADDRESSES: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? [] : value.split(',').map((address) => address.trim())))
    .pipe(z.array(z.union([z.ipv4(), z.ipv6()], { message: 'must be comma-separated IP addresses like 203.0.113.7,2001:db8::7' }))),
  /** The sites' page caches (nginx's user's); default <STATE_DIR>/page-cache. */
  PRESSLUFT_AGENT_PAGE_CACHE_ROOT: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  /** nginx's pid file: when set, the agent keeps nginx running (started with NGINX_COMMAND); unset: systemd does. */
  PRESSLUFT_AGENT_NGINX_PID_FILE: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  PRESSLUFT_AGENT_NGINX_USER: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a Unix user name' }).default('www-data'),
  PRESSLUFT_AGENT_PHP_FPM_BINARY: absolute('/usr/sbin/php-fpm8.2'),
  PRESSLUFT_AGENT_MARIADB_COMMAND: argv(['/usr/bin/mariadb']),
  PRESSLUFT_AGENT_MARIADB_SOCKET: absolute('/run/mysqld/mysqld.sock'),
  /** The node's redis-server socket; unset: no Redis on this node (a site with spec.cache.redis fails). */
  PRESSLUFT_AGENT_REDIS_SOCKET: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  /** redis-server's pid file and start argv (JSON): when both are set, the agent keeps Redis running; unset: systemd does. */
  PRESSLUFT_AGENT_REDIS_PID_FILE: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  PRESSLUFT_AGENT_REDIS_COMMAND: optionalArgv(),
  PRESSLUFT_AGENT_REDIS_ADMIN_USER: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, { message: 'must be a Redis ACL user name like pressluft-agent' }).default('pressluft-agent'),
  /** Root-only file with the admin's password (never in the environment). */
  PRESSLUFT_AGENT_REDIS_ADMIN_PASSWORD_FILE: absolute('/etc/pressluft/redis-admin-password'),
  PRESSLUFT_AGENT_WP_CLI: argv(['/usr/local/bin/wp']),
  /** The user restic runs as (unset: root); it must be able to write a local repository. */
  PRESSLUFT_AGENT_RESTIC_USER: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a Unix user name' }).optional(),
  PRESSLUFT_AGENT_COMPOSER: argv(['/usr/bin/composer']),
  PRESSLUFT_AGENT_CGROUP_ROOT: z.union([z.literal('off'), z.string().startsWith('/', { message: "must be an absolute path or 'off'" })]).default('/sys/fs/cgroup'),
  /** root: site cgroups under the hierarchy's root (production); self: under the agent's own cgroup (shared or sandboxed hosts, v1). */
  PRESSLUFT_AGENT_CGROUP_RELATIVE_TO: z.enum(['root', 'self'], { message: "must be 'root' or 'self'" }).default('root'),
  PRESSLUFT_AGENT_CGROUP_PREFIX: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, { message: 'must be a cgroup name like pressluft' }).default('pressluft'),
  /** Allow spec.code.git URLs of repositories on this node (file:///...): tests and single-server setups only. */
  PRESSLUFT_AGENT_GIT_ALLOW_LOCAL: z.enum(['true', 'false'], { message: 'must be true or false' }).default('false'),
  /** What one clone of a site's repository may take: bytes on disk, files, milliseconds. */
  PRESSLUFT_AGENT_GIT_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).default(DEFAULT_GIT_LIMITS.maxBytes),
  PRESSLUFT_AGENT_GIT_MAX_FILES: z.coerce.number().int().min(100).default(DEFAULT_GIT_LIMITS.maxFiles),
  /** A CA bundle git also trusts for https repositories (a self-hosted git server behind a private CA). */
  PRESSLUFT_AGENT_GIT_CA_FILE: z.string().startsWith('/', 'must be an absolute path').optional(),
  PRESSLUFT_AGENT_GIT_TIMEOUT_MS: z.coerce.number().int().min(10_000).max(3_600_000).default(DEFAULT_GIT_LIMITS.timeoutMs),
  /**
   * The sites' packet rules (nftables) in the machine's own network namespace: on for a
   * production node (its systemd unit sets it); off by default, so an agent started anywhere else
   * (`tools/dev up`, a developer's shell) never touches the machine's firewall.
   */
  PRESSLUFT_AGENT_FIREWALL: z.enum(['on', 'off'], { message: "must be 'on' or 'off'" }).default('off'),
  PRESSLUFT_AGENT_FIREWALL_COMMAND: argv(['/usr/sbin/nft']),
  /** This host's ports sites may reach (the node's nginx), comma-separated. */
  PRESSLUFT_AGENT_FIREWALL_LOCAL_PORTS: z
    .string()
    .regex(/^[0-9]{1,5}(,[0-9]{1,5})*$/, { message: 'must be comma-separated ports like 80,443' })
    .default('80,443')
    .transform((value) => value.split(',').map(Number)),
  /** Networks sites may never reach, comma-separated CIDRs (default: metadata, private and link-local ranges). */
  PRESSLUFT_AGENT_FIREWALL_BLOCKED_NETWORKS: z
    .string()
    .default(DEFAULT_BLOCKED_NETWORKS.join(','))
    .transform((value) => value.split(',').map((cidr) => cidr.trim()))
    .pipe(z.array(z.union([z.cidrv4(), z.cidrv6()], { message: 'must be CIDRs like 169.254.0.0/16,fe80::/10' }))),
  PRESSLUFT_AGENT_HEARTBEAT_MS: z.coerce.number().int().min(500).max(600_000).default(5000),
  PRESSLUFT_AGENT_REPORT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /** Supervision: how often each site's PHP-FPM master (and a supervised nginx) is looked at. */
  PRESSLUFT_AGENT_SUPERVISE_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  /** Liveness: how often every site is probed through nginx with its Host header. */
  PRESSLUFT_AGENT_PROBE_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  /** Restarts: the second restart in a row waits this long, each further one twice as long, at most RESTART_MAX_DELAY_MS. */
  PRESSLUFT_AGENT_RESTART_BASE_DELAY_MS: z.coerce.number().int().min(100).max(600_000).default(DEFAULT_RESTART_POLICY.baseDelayMs),
  PRESSLUFT_AGENT_RESTART_MAX_DELAY_MS: z.coerce.number().int().min(100).max(3_600_000).default(DEFAULT_RESTART_POLICY.maxDelayMs),
  /** Restarts in a row that are a crash loop, and how long a process must stay up to end one. */
  PRESSLUFT_AGENT_CRASH_LOOP_RESTARTS: z.coerce.number().int().min(1).max(100).default(DEFAULT_RESTART_POLICY.crashLoopRestarts),
  PRESSLUFT_AGENT_RESTART_STABLE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(DEFAULT_RESTART_POLICY.stableMs),
  /** WP-Cron: how often each site's due events run (`wp cron event run --due-now` as the site user); 0: never. */
  PRESSLUFT_AGENT_CRON_MS: z.coerce
    .number()
    .int()
    .max(3_600_000)
    .refine((ms) => ms === 0 || ms >= 1000, { message: 'must be 0 (off) or at least 1000' })
    .default(DEFAULT_CRON_MS),
  /** How long one site's WP-Cron run may take before it is killed with everything it started. */
  PRESSLUFT_AGENT_CRON_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(DEFAULT_CRON_TIMEOUT_MS),
  PRESSLUFT_AGENT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** How long one command may run before it ends FAILED (CommandTimedOut) and its site moves on. */
  PRESSLUFT_AGENT_COMMAND_DEADLINE_MS: z.coerce.number().int().min(60_000).max(24 * 3_600_000).default(30 * 60_000),
  PRESSLUFT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface AgentConfig {
  readonly node: string;
  readonly stateDir: string;
  readonly enrollment: { readonly endpoint: string; readonly caFile: string; readonly joinTokenFile: string };
  readonly host: HostSettings;
  readonly heartbeatMs: number;
  readonly reportMs: number;
  readonly superviseMs: number;
  readonly probeMs: number;
  readonly cronMs: number;
  readonly concurrency: number;
  readonly commandDeadlineMs: number;
  readonly logLevel: string;
}

export function loadAgentConfig(env: Readonly<Record<string, string | undefined>>): AgentConfig {
  const raw = loadConfig(schema, env);
  return {
    node: raw.PRESSLUFT_AGENT_NODE,
    stateDir: raw.PRESSLUFT_AGENT_STATE_DIR,
    enrollment: { endpoint: raw.PRESSLUFT_AGENT_ENROLL_ENDPOINT, caFile: raw.PRESSLUFT_AGENT_CA_FILE, joinTokenFile: raw.PRESSLUFT_AGENT_JOIN_TOKEN_FILE },
    host: {
      node: raw.PRESSLUFT_AGENT_NODE,
      sitesRoot: raw.PRESSLUFT_AGENT_SITES_ROOT,
      stateDir: raw.PRESSLUFT_AGENT_STATE_DIR,
      wordpressSource: raw.PRESSLUFT_AGENT_WORDPRESS_SOURCE,
      nginx: {
        command: raw.PRESSLUFT_AGENT_NGINX_COMMAND,
        sitesDir: raw.PRESSLUFT_AGENT_NGINX_SITES_DIR,
        listen: raw.PRESSLUFT_AGENT_NGINX_LISTEN,
        user: raw.PRESSLUFT_AGENT_NGINX_USER,
        ...(raw.PRESSLUFT_AGENT_NGINX_PID_FILE ? { pidFile: raw.PRESSLUFT_AGENT_NGINX_PID_FILE } : {}),
        ...(raw.PRESSLUFT_AGENT_SITES_TLS_LISTEN ? { tlsListen: raw.PRESSLUFT_AGENT_SITES_TLS_LISTEN } : {}),
        ...(raw.PRESSLUFT_AGENT_HTTPS_PORT !== undefined ? { httpsPort: raw.PRESSLUFT_AGENT_HTTPS_PORT } : {}),
      },
      acme: {
        ...(raw.PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL ? { challtestsrvUrl: raw.PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL } : {}),
        ...(raw.PRESSLUFT_AGENT_CLOUDFLARE_API_URL ? { cloudflareApiUrl: raw.PRESSLUFT_AGENT_CLOUDFLARE_API_URL } : {}),
      },
      publicAddresses: raw.PRESSLUFT_AGENT_PUBLIC_ADDRESSES,
      ...(raw.PRESSLUFT_AGENT_PAGE_CACHE_ROOT ? { pageCacheRoot: raw.PRESSLUFT_AGENT_PAGE_CACHE_ROOT } : {}),
      restartPolicy: {
        baseDelayMs: raw.PRESSLUFT_AGENT_RESTART_BASE_DELAY_MS,
        maxDelayMs: raw.PRESSLUFT_AGENT_RESTART_MAX_DELAY_MS,
        crashLoopRestarts: raw.PRESSLUFT_AGENT_CRASH_LOOP_RESTARTS,
        stableMs: raw.PRESSLUFT_AGENT_RESTART_STABLE_MS,
      },
      phpFpm: { binary: raw.PRESSLUFT_AGENT_PHP_FPM_BINARY },
      mariadb: { command: raw.PRESSLUFT_AGENT_MARIADB_COMMAND, socket: raw.PRESSLUFT_AGENT_MARIADB_SOCKET },
      ...(raw.PRESSLUFT_AGENT_REDIS_SOCKET
        ? {
            redis: {
              socket: raw.PRESSLUFT_AGENT_REDIS_SOCKET,
              adminUser: raw.PRESSLUFT_AGENT_REDIS_ADMIN_USER,
              adminPasswordFile: raw.PRESSLUFT_AGENT_REDIS_ADMIN_PASSWORD_FILE,
              ...(raw.PRESSLUFT_AGENT_REDIS_PID_FILE && raw.PRESSLUFT_AGENT_REDIS_COMMAND
                ? { keep: { pidFile: raw.PRESSLUFT_AGENT_REDIS_PID_FILE, command: raw.PRESSLUFT_AGENT_REDIS_COMMAND } }
                : {}),
            },
          }
        : {}),
      wpCli: raw.PRESSLUFT_AGENT_WP_CLI,
      cronTimeoutMs: raw.PRESSLUFT_AGENT_CRON_TIMEOUT_MS,
      ...(raw.PRESSLUFT_AGENT_RESTIC_USER ? { resticUser: raw.PRESSLUFT_AGENT_RESTIC_USER } : {}),
      composer: raw.PRESSLUFT_AGENT_COMPOSER,
      cgroup: raw.PRESSLUFT_AGENT_CGROUP_ROOT === 'off' ? undefined : { root: raw.PRESSLUFT_AGENT_CGROUP_ROOT, prefix: raw.PRESSLUFT_AGENT_CGROUP_PREFIX, relativeTo: raw.PRESSLUFT_AGENT_CGROUP_RELATIVE_TO },
      ...(raw.PRESSLUFT_AGENT_TEMPLATES_DIR ? { templatesDir: raw.PRESSLUFT_AGENT_TEMPLATES_DIR } : {}),
      gitAllowLocal: raw.PRESSLUFT_AGENT_GIT_ALLOW_LOCAL === 'true',
      ...(raw.PRESSLUFT_AGENT_GIT_CA_FILE ? { gitCaFile: raw.PRESSLUFT_AGENT_GIT_CA_FILE } : {}),
      gitLimits: { maxBytes: raw.PRESSLUFT_AGENT_GIT_MAX_BYTES, maxFiles: raw.PRESSLUFT_AGENT_GIT_MAX_FILES, timeoutMs: raw.PRESSLUFT_AGENT_GIT_TIMEOUT_MS },
      ...(raw.PRESSLUFT_AGENT_FIREWALL === 'on'
        ? {
            firewall: {
              command: raw.PRESSLUFT_AGENT_FIREWALL_COMMAND,
              localPorts: raw.PRESSLUFT_AGENT_FIREWALL_LOCAL_PORTS,
              blockedNetworks: raw.PRESSLUFT_AGENT_FIREWALL_BLOCKED_NETWORKS,
            },
          }
        : {}),
    },
    heartbeatMs: raw.PRESSLUFT_AGENT_HEARTBEAT_MS,
    superviseMs: raw.PRESSLUFT_AGENT_SUPERVISE_MS,
    probeMs: raw.PRESSLUFT_AGENT_PROBE_MS,
    cronMs: raw.PRESSLUFT_AGENT_CRON_MS,
    reportMs: raw.PRESSLUFT_AGENT_REPORT_MS,
    concurrency: raw.PRESSLUFT_AGENT_CONCURRENCY,
    commandDeadlineMs: raw.PRESSLUFT_AGENT_COMMAND_DEADLINE_MS,
    logLevel: raw.PRESSLUFT_LOG_LEVEL,
  };
}
