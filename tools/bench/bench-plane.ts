import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { Harness, type NatsService, type PostgresService } from '@pressluft/testing';
import { startControlPlane, type ControlPlane } from '../../apps/control-plane/src/app.js';
import { loadControlPlaneConfig } from '../../apps/control-plane/src/config/control-plane.config.js';

export interface BenchPlane {
  readonly plane: ControlPlane;
  readonly token: string;
  readonly databaseUrl: string;
  readonly postgres: PostgresService;
  readonly nats: NatsService;
}

/**
 * The benchmarks' system under test: throwaway PostgreSQL and NATS from the harness, a fresh
 * database, and a control plane in this process with a bootstrap admin token. `run` gets it,
 * and everything is stopped afterwards, whatever happens.
 */
export async function withBenchPlane(env: Record<string, string>, run: (bench: BenchPlane) => Promise<void>): Promise<void> {
  const harness = await Harness.start({ postgres: true, nats: true });
  const dir = mkdtempSync(join(tmpdir(), 'pressluft-bench-'));
  try {
    const { postgres, nats } = harness;
    if (!postgres || !nats) throw new Error('harness services missing');
    // Like `tools/dev up`: PostgreSQL on the same machine over its Unix socket (BENCH_PG=tcp: loopback TCP).
    const tcpUrl = await postgres.createDatabase('bench');
    const databaseUrl = process.env['BENCH_PG'] === 'tcp' ? tcpUrl : postgres.socketUrlFor('bench');
    const token = `plt_${randomBytes(32).toString('base64url')}`;
    writeFileSync(join(dir, 'admin.token'), token, { mode: 0o600 });
    const plane = await startControlPlane(
      loadControlPlaneConfig({
        PRESSLUFT_HTTP_PORT: '0',
        PRESSLUFT_HTTPS_PORT: 'off',
        PRESSLUFT_GRPC_PORT: 'off',
        PRESSLUFT_ADMIN_TOKEN_FILE: join(dir, 'admin.token'),
        PRESSLUFT_DATABASE_URL: databaseUrl,
        PRESSLUFT_NATS_URL: nats.url,
        PRESSLUFT_LOG_LEVEL: 'silent',
        PRESSLUFT_ACME_DIRECTORY_URL: 'none',
        ...env,
      }),
      createLogger({ name: 'bench', level: 'silent' }),
    );
    try {
      await run({ plane, token, databaseUrl, postgres, nats });
    } finally {
      await plane.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await harness.stop();
  }
}

/** Runs a benchmark's main and exits with its outcome. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
