import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate, MIGRATIONS } from './data-source.js';
import { SiteDomains1764460000000 } from './migrations/1764460000000-site-domains.js';
import { createTestDatabase, type TestDatabase } from '@pressluft/testing';

describe('database schema', () => {
  let dataSource: DataSource;
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(inject('services').postgres.url, 'schema');
    dataSource = createDataSource(database.url);
    await dataSource.initialize();
    await migrate(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('the committed migrations produce exactly the schema the entities describe', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('running the migrations again changes nothing', async () => {
    await migrate(dataSource);
    const rows: unknown[] = await dataSource.query('SELECT name FROM schema_migrations');
    expect(rows).toHaveLength(MIGRATIONS.length);
  });

  it('the site_domains migration fills the table from existing sites; of two sharing a domain the first by name holds it', async () => {
    await dataSource.query(`DROP TABLE site_domains`);
    const insert = `INSERT INTO resources (kind, name, uid, generation, resource_version, labels, annotations, finalizers, spec, status, creation_timestamp)
      VALUES ('Site', $1, gen_random_uuid(), 1, nextval('resource_version_seq'), '{}', '{}', '[]', $2, '{}', now())`;
    await dataSource.query(insert, ['zeta', JSON.stringify({ domains: ['shared.example.test', 'zeta.example.test'] })]);
    await dataSource.query(insert, ['alpha', JSON.stringify({ domains: ['shared.example.test'] })]);
    const runner = dataSource.createQueryRunner();
    try {
      await new SiteDomains1764460000000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await dataSource.query('SELECT domain, site FROM site_domains ORDER BY domain')).toEqual([
      { domain: 'shared.example.test', site: 'alpha' },
      { domain: 'zeta.example.test', site: 'zeta' },
    ]);
  });
});
