import { dirname, join } from 'node:path';
import { ConfigError, envBoolean, envPort, envUrl, loadConfig } from '@pressluft/platform';
import { BACKUP_REPOSITORY_PATTERN, DEFAULT_RETENTION, EMAIL_PATTERN, type Retention } from '@pressluft/domain';
import { z } from 'zod';

const DAY_MS = 24 * 3_600_000;

/** A DNS server as node:dns takes it: an IPv4 address with an optional port, or [IPv6]:port. */
const DNS_SERVER_PATTERN = /^(([0-9]{1,3}\.){3}[0-9]{1,3}(:[0-9]{1,5})?|\[[0-9A-Fa-f:]+\]:[0-9]{1,5})$/;

const absolutePath = () => z.string().startsWith('/', { message: 'must be an absolute path' });

const schema = z.object({
  PRESSLUFT_HTTP_HOST: z.ipv4({ message: 'must be an IPv4 address to listen on' }).default('127.0.0.1'),
  PRESSLUFT_HTTP_PORT: envPort(8080),
  PRESSLUFT_HTTPS_PORT: z.union([z.literal('off'), envPort(8443)]).default(8443),
  PRESSLUFT_PKI_DIR: z.string().startsWith('/', { message: 'must be an absolute path' }).default('/var/lib/pressluft/pki'),
  PRESSLUFT_ADMIN_TOKEN_FILE: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  /** The key (32 bytes) that encrypts BackupStore credentials; created on first start. Default: secrets.key beside the PKI directory. */
  PRESSLUFT_SECRETS_KEY_FILE: absolutePath().optional(),
  /** A local restic repository for the BackupStore `local`, created at start when missing (tools/dev, tests). */
  PRESSLUFT_DEFAULT_BACKUP_REPOSITORY: absolutePath()
    .regex(BACKUP_REPOSITORY_PATTERN, { message: 'must be an absolute path of letters, digits and ._-/' })
    .refine((value) => !value.split('/').includes('..'), { message: 'must not contain ".."' })
    .optional(),
  PRESSLUFT_DATABASE_URL: envUrl(['postgres', 'postgresql'], 'postgres://pressluft@127.0.0.1:55432/pressluft'),
  PRESSLUFT_NATS_URL: envUrl(['nats', 'tls'], 'nats://127.0.0.1:54222'),
  /** The NATS URL enrolled agents are told to use (default: PRESSLUFT_NATS_URL). */
  PRESSLUFT_NATS_AGENT_URL: z
    .string()
    .refine((value) => /^(nats|tls):\/\/[^\s]+$/.test(value) && URL.canParse(value), { message: 'must be a URL with scheme nats or tls' })
    .optional(),
  PRESSLUFT_NATS_TLS_CERT: absolutePath().optional(),
  PRESSLUFT_NATS_TLS_KEY: absolutePath().optional(),
  PRESSLUFT_NATS_TLS_CA: absolutePath().optional(),
  PRESSLUFT_NATS_AUTHZ_FILE: absolutePath().optional(),
  PRESSLUFT_NATS_PID_FILE: absolutePath().optional(),
  PRESSLUFT_GRPC_HOST: z.ipv4({ message: 'must be an IPv4 address to listen on' }).optional(),
  PRESSLUFT_GRPC_PORT: z.union([z.literal('off'), envPort(8444)]).default(8444),
  PRESSLUFT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PRESSLUFT_READY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  /** Accept Site git sources from local repositories (file://): only when every node allows them too. */
  PRESSLUFT_GIT_ALLOW_LOCAL: envBoolean(false),
  PRESSLUFT_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  PRESSLUFT_ENGINE: envBoolean(true),
  PRESSLUFT_LEASE_TTL_MS: ms(1000, 600_000, 10_000),
  PRESSLUFT_LEASE_RENEW_MS: ms(100, 60_000, 2000),
  PRESSLUFT_RESYNC_MS: ms(1000, 3_600_000, 60_000),
  PRESSLUFT_HEARTBEAT_TIMEOUT_MS: ms(1000, 3_600_000, 15_000),
  PRESSLUFT_STALL_WINDOW_MS: ms(1000, 3_600_000, 60_000),
  /** The built console served at / (default: dist/apps/console/browser beside the control plane). */
  PRESSLUFT_CONSOLE_DIR: z.string().min(1).optional(),
  PRESSLUFT_MAX_WATCHES_PER_SUBJECT: z.coerce.number().int().min(1).max(100_000).default(100),
  PRESSLUFT_PRUNE_EVERY_MS: ms(100, 3_600_000, 60_000),
  /** How far back a watch can resume (the change log's compaction window). */
  PRESSLUFT_CHANGE_LOG_RETENTION_MS: ms(1000, 7 * 24 * 3_600_000, DEFAULT_RETENTION.changeLogMs),
  /** kube-apiserver's --event-ttl. */
  PRESSLUFT_EVENT_TTL_MS: ms(1000, 365 * 24 * 3_600_000, DEFAULT_RETENTION.eventsMs),
  PRESSLUFT_AUDIT_RETENTION_DAYS: days(DEFAULT_RETENTION.auditMs),
  PRESSLUFT_COMMAND_RETENTION_DAYS: days(DEFAULT_RETENTION.commandsMs),
  /** How often the leader applies the sites' backup retention (restic forget and prune). */
  PRESSLUFT_BACKUP_RETENTION_EVERY_MS: ms(1000, 7 * 24 * 3_600_000, 3_600_000),
  /**
   * The DNS servers the DNS readiness controller asks (comma list of IP[:port], [IPv6]:port):
   * default the system's resolvers; none: the controller is off (test control planes).
   */
  PRESSLUFT_DNS_SERVERS: z
    .string()
    .refine((value) => value === 'none' || value.split(',').every((server) => DNS_SERVER_PATTERN.test(server)), {
      message: 'must be none or a comma list of DNS servers like 1.1.1.1,9.9.9.9:53,[2606:4700::1111]:53',
    })
    .optional(),
  /** The ACME directory sites' certificates are ordered from (spec.tls.mode acme); `none`: no ACME (tests). */
  PRESSLUFT_ACME_DIRECTORY_URL: z.union([z.literal('none'), envUrl(['https'], 'https://acme-v02.api.letsencrypt.org/directory')]).default('https://acme-v02.api.letsencrypt.org/directory'),
  /** The ACME account's contact (expiry notices from the CA); optional. */
  PRESSLUFT_ACME_EMAIL: z.string().regex(EMAIL_PATTERN, { message: 'must be an email address like ops@example.test' }).optional(),
  /** The port the nodes serve sites' HTTPS on (status.url leaves it out when 443). */
  PRESSLUFT_SITES_HTTPS_PORT: envPort(443).refine((port) => port > 0, { message: 'must be between 1 and 65535' }),
  /** restic's cache for the control plane's own runs (retention); created when missing. */
  PRESSLUFT_RESTIC_CACHE_DIR: absolutePath().default('/var/cache/pressluft/restic'),
});

/** A retention in whole days (1 to 3650), defaulting to `fallbackMs`. */
function days(fallbackMs: number) {
  return z.coerce
    .number({ message: 'must be a number of days' })
    .int({ message: 'must be a whole number of days' })
    .min(1, { message: 'must be at least 1 day' })
    .max(3650, { message: 'must be at most 3650 days' })
    .default(fallbackMs / DAY_MS);
}

function ms(min: number, max: number, fallback: number) {
  return z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int({ message: 'must be a whole number of milliseconds' })
    .min(min, { message: `must be at least ${min} ms` })
    .max(max, { message: `must be at most ${max} ms` })
    .default(fallback);
}

export interface ControlPlaneConfig {
  readonly http: { readonly host: string; readonly port: number };
  /** undefined: no TLS listener (PRESSLUFT_HTTPS_PORT=off). */
  readonly https: { readonly port: number; readonly pkiDir: string } | undefined;
  readonly adminTokenFile: string | undefined;
  /** The control plane's CA and its serving and client certificates (created on first start). */
  readonly pkiDir: string;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** The key file for BackupStore credentials (AES-256-GCM; created on first start, 0600). */
  readonly secretsKeyFile: string;
  /** The repository of the BackupStore `local` the control plane ensures at start; undefined: none. */
  readonly defaultBackupRepository: string | undefined;
  /**
   * The control plane's own NATS client certificate (mutual TLS). Files when all three
   * PRESSLUFT_NATS_TLS_* are set; 'self-issued' when the URL is tls:// without them (a
   * certificate CN=pressluft-control-plane from our CA, kept in pkiDir); undefined for nats://.
   */
  readonly natsTls: { readonly certFile: string; readonly keyFile: string; readonly caFile: string } | 'self-issued' | undefined;
  /** Enrollment: the gRPC listener (undefined: off), and what agents are told about NATS. */
  readonly enrollment: {
    readonly grpc: { readonly host: string; readonly port: number } | undefined;
    readonly natsAgentUrl: string;
    /** The nats-server authorization file this control plane writes; undefined: managed elsewhere. */
    readonly natsAuthzFile: string | undefined;
    /** The nats-server PID file: SIGHUP after the authorization file changed. */
    readonly natsPidFile: string | undefined;
  };
  readonly logLevel: string;
  readonly readyTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** Open watches one subject may hold on one replica. */
  readonly maxWatchesPerSubject: number;
  readonly consoleDir?: string;
  /** Which Site git sources the API accepts (the nodes' rule; local repositories only when set). */
  readonly git: { readonly allowLocal: boolean };
  /** The leader-only loops: reconcilers, outbox relay, event ingest, stall and heartbeat detectors. */
  readonly engine: {
    readonly enabled: boolean;
    readonly leaseTtlMs: number;
    readonly leaseRenewMs: number;
    readonly resyncMs: number;
    readonly heartbeatTimeoutMs: number;
    readonly stallWindowMs: number;
    /** How often the leader prunes records past their retention. */
    readonly pruneEveryMs: number;
  };
  readonly retention: Retention;
  /** DNS readiness (engine/dns-readiness.reconciler.ts): undefined when off; servers [] = the system's resolvers. */
  readonly dns: { readonly servers: readonly string[] } | undefined;
  /** Backup retention, applied by the leader with restic (engine/backup-retention.runner.ts). */
  readonly backups: { readonly retentionEveryMs: number; readonly resticCacheDir: string };
  /** Sites' certificates: the ACME directory and contact (acme undefined: ACME is off), and the nodes' HTTPS port. */
  readonly certificates: { readonly acme: { readonly directoryUrl: string; readonly email: string | undefined } | undefined; readonly sitesHttpsPort: number };
}

export function loadControlPlaneConfig(env: Readonly<Record<string, string | undefined>>): ControlPlaneConfig {
  const raw = loadConfig(schema, env);
  const tlsFiles = [raw.PRESSLUFT_NATS_TLS_CERT, raw.PRESSLUFT_NATS_TLS_KEY, raw.PRESSLUFT_NATS_TLS_CA];
  const someTlsFiles = tlsFiles.some((f) => f !== undefined);
  if (someTlsFiles && !tlsFiles.every((f) => f !== undefined)) {
    throw new ConfigError('PRESSLUFT_NATS_TLS_CERT', 'PRESSLUFT_NATS_TLS_CERT, PRESSLUFT_NATS_TLS_KEY and PRESSLUFT_NATS_TLS_CA go together: set all three or none');
  }
  const tlsUrl = new URL(raw.PRESSLUFT_NATS_URL).protocol === 'tls:';
  return {
    http: { host: raw.PRESSLUFT_HTTP_HOST, port: raw.PRESSLUFT_HTTP_PORT },
    https: raw.PRESSLUFT_HTTPS_PORT === 'off' ? undefined : { port: raw.PRESSLUFT_HTTPS_PORT, pkiDir: raw.PRESSLUFT_PKI_DIR },
    adminTokenFile: raw.PRESSLUFT_ADMIN_TOKEN_FILE,
    pkiDir: raw.PRESSLUFT_PKI_DIR,
    databaseUrl: raw.PRESSLUFT_DATABASE_URL,
    natsUrl: raw.PRESSLUFT_NATS_URL,
    secretsKeyFile: raw.PRESSLUFT_SECRETS_KEY_FILE ?? join(dirname(raw.PRESSLUFT_PKI_DIR), 'secrets.key'),
    defaultBackupRepository: raw.PRESSLUFT_DEFAULT_BACKUP_REPOSITORY,
    natsTls: someTlsFiles
      ? { certFile: raw.PRESSLUFT_NATS_TLS_CERT ?? '', keyFile: raw.PRESSLUFT_NATS_TLS_KEY ?? '', caFile: raw.PRESSLUFT_NATS_TLS_CA ?? '' }
      : tlsUrl
        ? 'self-issued'
        : undefined,
    enrollment: {
      grpc: raw.PRESSLUFT_GRPC_PORT === 'off' ? undefined : { host: raw.PRESSLUFT_GRPC_HOST ?? raw.PRESSLUFT_HTTP_HOST, port: raw.PRESSLUFT_GRPC_PORT },
      natsAgentUrl: raw.PRESSLUFT_NATS_AGENT_URL ?? raw.PRESSLUFT_NATS_URL,
      natsAuthzFile: raw.PRESSLUFT_NATS_AUTHZ_FILE,
      natsPidFile: raw.PRESSLUFT_NATS_PID_FILE,
    },
    logLevel: raw.PRESSLUFT_LOG_LEVEL,
    readyTimeoutMs: raw.PRESSLUFT_READY_TIMEOUT_MS,
    maxBodyBytes: raw.PRESSLUFT_MAX_BODY_BYTES,
    maxWatchesPerSubject: raw.PRESSLUFT_MAX_WATCHES_PER_SUBJECT,
    ...(raw.PRESSLUFT_CONSOLE_DIR ? { consoleDir: raw.PRESSLUFT_CONSOLE_DIR } : {}),
    git: { allowLocal: raw.PRESSLUFT_GIT_ALLOW_LOCAL },
    engine: {
      enabled: raw.PRESSLUFT_ENGINE,
      leaseTtlMs: raw.PRESSLUFT_LEASE_TTL_MS,
      leaseRenewMs: Math.min(raw.PRESSLUFT_LEASE_RENEW_MS, Math.floor(raw.PRESSLUFT_LEASE_TTL_MS / 3)),
      resyncMs: raw.PRESSLUFT_RESYNC_MS,
      heartbeatTimeoutMs: raw.PRESSLUFT_HEARTBEAT_TIMEOUT_MS,
      stallWindowMs: raw.PRESSLUFT_STALL_WINDOW_MS,
      pruneEveryMs: raw.PRESSLUFT_PRUNE_EVERY_MS,
    },
    retention: {
      ...DEFAULT_RETENTION,
      changeLogMs: raw.PRESSLUFT_CHANGE_LOG_RETENTION_MS,
      eventsMs: raw.PRESSLUFT_EVENT_TTL_MS,
      auditMs: raw.PRESSLUFT_AUDIT_RETENTION_DAYS * DAY_MS,
      commandsMs: raw.PRESSLUFT_COMMAND_RETENTION_DAYS * DAY_MS,
      // Finished runs (failed Backups, Restores) as long as the Commands that ran them.
      runsMs: raw.PRESSLUFT_COMMAND_RETENTION_DAYS * DAY_MS,
    },
    dns: raw.PRESSLUFT_DNS_SERVERS === 'none' ? undefined : { servers: raw.PRESSLUFT_DNS_SERVERS?.split(',') ?? [] },
    backups: { retentionEveryMs: raw.PRESSLUFT_BACKUP_RETENTION_EVERY_MS, resticCacheDir: raw.PRESSLUFT_RESTIC_CACHE_DIR },
    certificates: {
      acme: raw.PRESSLUFT_ACME_DIRECTORY_URL === 'none' ? undefined : { directoryUrl: raw.PRESSLUFT_ACME_DIRECTORY_URL, email: raw.PRESSLUFT_ACME_EMAIL },
      sitesHttpsPort: raw.PRESSLUFT_SITES_HTTPS_PORT,
    },
  };
}
