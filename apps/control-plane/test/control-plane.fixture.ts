import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLogger } from '@pressluft/platform';
import { createTestDatabase, type TestDatabase } from '@pressluft/testing';
import { inject } from 'vitest';
import { startControlPlane, type ControlPlane } from '../src/app.js';
import type { Role } from '../src/auth/principal.js';
import { TokenService } from '../src/auth/token.service.js';
import { loadControlPlaneConfig } from '../src/config/control-plane.config.js';

export interface ControlPlaneFixture {
  readonly plane: ControlPlane;
  readonly database: TestDatabase;
  readonly adminToken: string;
  readonly adminTokenFile: string;
  /** The control plane's PKI directory (its CA: ca.pem). */
  readonly pkiDir: string;
  /** A new token with this role (subject = role name unless given). */
  token(role: Role, subject?: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A real control plane for an integration test (the engine's loops only when asked): its own database on the run-wide PostgreSQL,
 * the run-wide NATS, free ports, a TLS listener with a throwaway CA, and a bootstrap admin token.
 */
export async function startControlPlaneFixture(
  options: {
    https?: boolean;
    engine?: boolean;
    env?: Record<string, string>;
    /** The enrollment gRPC server on a free port. */
    grpc?: boolean;
    /** Another replica: this database (another fixture's) instead of a new one; stop() leaves it. */
    database?: TestDatabase;
  } = {},
): Promise<ControlPlaneFixture> {
  const services = inject('services');
  const database = options.database ?? (await createTestDatabase(services.postgres.url, 'cp'));
  const dir = mkdtempSync(join(tmpdir(), 'pressluft-cp-'));
  const adminToken = `plt_${randomBytes(32).toString('base64url')}`;
  const adminTokenFile = join(dir, 'admin.token');
  writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
  const config = loadControlPlaneConfig({
    PRESSLUFT_HTTP_PORT: '0',
    PRESSLUFT_HTTPS_PORT: options.https ? '0' : 'off',
    PRESSLUFT_GRPC_PORT: options.grpc ? '0' : 'off',
    PRESSLUFT_PKI_DIR: join(dir, 'pki'),
    PRESSLUFT_ADMIN_TOKEN_FILE: adminTokenFile,
    PRESSLUFT_DATABASE_URL: database.url,
    PRESSLUFT_NATS_URL: services.nats.url,
    PRESSLUFT_LOG_LEVEL: 'silent',
    // API tests run without the loops (no finalizers, no commands); engine tests switch them on.
    PRESSLUFT_ENGINE: options.engine ? 'true' : 'false',
    // No DNS readiness lookups (a test that shows them passes its own servers).
    PRESSLUFT_DNS_SERVERS: 'none',
    // Tests never order from Let's Encrypt: a test that wants ACME names its directory (Pebble).
    PRESSLUFT_ACME_DIRECTORY_URL: 'none',
    ...options.env,
  });
  const plane = await startControlPlane(config, createLogger({ name: 'control-plane', level: process.env['PRESSLUFT_TEST_LOG_LEVEL'] ?? 'silent' }));
  return {
    plane,
    database,
    adminToken,
    adminTokenFile,
    pkiDir: config.pkiDir,
    token: async (role, subject) => (await plane.app.get(TokenService).create(subject ?? role, role, 'test')).token,
    stop: async () => {
      await plane.close();
      if (!options.database) await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
