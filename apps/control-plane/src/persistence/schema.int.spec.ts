import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate, MIGRATIONS } from './data-source.js';
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
});
