import { envBoolean, envPort, envUrl, loadConfig } from '@pressluft/platform';
import { z } from 'zod';

const schema = z.object({
  PRESSLUFT_HTTP_HOST: z.ipv4({ message: 'must be an IPv4 address to listen on' }).default('127.0.0.1'),
  PRESSLUFT_HTTP_PORT: envPort(8080),
  PRESSLUFT_HTTPS_PORT: z.union([z.literal('off'), envPort(8443)]).default(8443),
  PRESSLUFT_PKI_DIR: z.string().startsWith('/', { message: 'must be an absolute path' }).default('/var/lib/pressluft/pki'),
  PRESSLUFT_ADMIN_TOKEN_FILE: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  PRESSLUFT_DATABASE_URL: envUrl(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:55432/pressluft'),
  PRESSLUFT_NATS_URL: envUrl(['nats', 'tls'], 'nats://127.0.0.1:54222'),
  PRESSLUFT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PRESSLUFT_READY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  PRESSLUFT_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  PRESSLUFT_ENGINE: envBoolean(true),
  PRESSLUFT_LEASE_TTL_MS: ms(1000, 600_000, 10_000),
  PRESSLUFT_LEASE_RENEW_MS: ms(100, 60_000, 2000),
  PRESSLUFT_RESYNC_MS: ms(1000, 3_600_000, 60_000),
  PRESSLUFT_HEARTBEAT_TIMEOUT_MS: ms(1000, 3_600_000, 15_000),
  PRESSLUFT_STALL_WINDOW_MS: ms(1000, 3_600_000, 60_000),
});

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
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly logLevel: string;
  readonly readyTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** The leader-only loops: reconcilers, outbox relay, event ingest, stall and heartbeat detectors. */
  readonly engine: {
    readonly enabled: boolean;
    readonly leaseTtlMs: number;
    readonly leaseRenewMs: number;
    readonly resyncMs: number;
    readonly heartbeatTimeoutMs: number;
    readonly stallWindowMs: number;
  };
}

export function loadControlPlaneConfig(env: Readonly<Record<string, string | undefined>>): ControlPlaneConfig {
  const raw = loadConfig(schema, env);
  return {
    http: { host: raw.PRESSLUFT_HTTP_HOST, port: raw.PRESSLUFT_HTTP_PORT },
    https: raw.PRESSLUFT_HTTPS_PORT === 'off' ? undefined : { port: raw.PRESSLUFT_HTTPS_PORT, pkiDir: raw.PRESSLUFT_PKI_DIR },
    adminTokenFile: raw.PRESSLUFT_ADMIN_TOKEN_FILE,
    databaseUrl: raw.PRESSLUFT_DATABASE_URL,
    natsUrl: raw.PRESSLUFT_NATS_URL,
    logLevel: raw.PRESSLUFT_LOG_LEVEL,
    readyTimeoutMs: raw.PRESSLUFT_READY_TIMEOUT_MS,
    maxBodyBytes: raw.PRESSLUFT_MAX_BODY_BYTES,
    engine: {
      enabled: raw.PRESSLUFT_ENGINE,
      leaseTtlMs: raw.PRESSLUFT_LEASE_TTL_MS,
      leaseRenewMs: Math.min(raw.PRESSLUFT_LEASE_RENEW_MS, Math.floor(raw.PRESSLUFT_LEASE_TTL_MS / 3)),
      resyncMs: raw.PRESSLUFT_RESYNC_MS,
      heartbeatTimeoutMs: raw.PRESSLUFT_HEARTBEAT_TIMEOUT_MS,
      stallWindowMs: raw.PRESSLUFT_STALL_WINDOW_MS,
    },
  };
}
