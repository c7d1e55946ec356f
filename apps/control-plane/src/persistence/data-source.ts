import { DataSource } from 'typeorm';
import { ENTITIES } from './entities.js';
import { InitialSchema1764420000000 } from './migrations/1764420000000-initial-schema.js';
import { CommandBus1764430000000 } from './migrations/1764430000000-command-bus.js';
import { Enrollment1764440000000 } from './migrations/1764440000000-enrollment.js';
import { SiteFingerprints1764451000000 } from './migrations/1764451000000-site-fingerprints.js';
import { SiteDomains1764460000000 } from './migrations/1764460000000-site-domains.js';
import { BoundedState1764470000000 } from './migrations/1764470000000-bounded-state.js';
import { ChangeLogIndex1764480000000 } from './migrations/1764480000000-change-log-index.js';
import { ResourceSecrets1764490000000 } from './migrations/1764490000000-resource-secrets.js';

export const MIGRATIONS = [InitialSchema1764420000000, CommandBus1764430000000, Enrollment1764440000000, SiteFingerprints1764451000000, SiteDomains1764460000000, BoundedState1764470000000, ChangeLogIndex1764480000000, ResourceSecrets1764490000000];

/** Key of the advisory lock that serialises migrations across replicas starting together. */
const MIGRATION_LOCK = 7_210_001;

export function createDataSource(url: string, options: { poolSize?: number; connectTimeoutMs?: number; idleInTransactionMs?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
    poolSize: options.poolSize ?? 20,
    extra: {
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      // A replica frozen inside a transaction (GC pause, SIGSTOP) must not hold its locks, the
      // leader fence's share lock on the lease above all, beyond a few seconds: PostgreSQL ends
      // such a session, and a standby can take the lease.
      options: `-c idle_in_transaction_session_timeout=${options.idleInTransactionMs ?? 5000}`,
    },
  });
}

/** Applies pending migrations; replicas starting at once wait for each other on a lock. */
export async function migrate(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
