import { envPort, envUrl, loadConfig } from '@pressluft/platform';
import { z } from 'zod';

const schema = z.object({
  PRESSLUFT_HTTP_HOST: z.ipv4({ message: 'must be an IPv4 address to listen on' }).default('127.0.0.1'),
  PRESSLUFT_HTTP_PORT: envPort(8080),
  PRESSLUFT_DATABASE_URL: envUrl(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:55432/pressluft'),
  PRESSLUFT_NATS_URL: envUrl(['nats', 'tls'], 'nats://127.0.0.1:54222'),
  PRESSLUFT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PRESSLUFT_READY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
});

export interface ControlPlaneConfig {
  readonly http: { readonly host: string; readonly port: number };
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly logLevel: string;
  readonly readyTimeoutMs: number;
}

export function loadControlPlaneConfig(env: Readonly<Record<string, string | undefined>>): ControlPlaneConfig {
  const raw = loadConfig(schema, env);
  return {
    http: { host: raw.PRESSLUFT_HTTP_HOST, port: raw.PRESSLUFT_HTTP_PORT },
    databaseUrl: raw.PRESSLUFT_DATABASE_URL,
    natsUrl: raw.PRESSLUFT_NATS_URL,
    logLevel: raw.PRESSLUFT_LOG_LEVEL,
    readyTimeoutMs: raw.PRESSLUFT_READY_TIMEOUT_MS,
  };
}
