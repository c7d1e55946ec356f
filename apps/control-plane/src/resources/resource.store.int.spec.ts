import { createTestDatabase, type TestDatabase } from '@pressluft/testing';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDataSource, migrate } from '../persistence/data-source.js';
import { ResourceStore, type ObjectWrite } from './resource.store.js';

const node = (name: string, zone: string): ObjectWrite => ({
  kind: 'Node',
  name,
  labels: { zone },
  annotations: {},
  finalizers: [],
  spec: {},
  status: {},
  generation: 1,
});

/**
 * No global lock orders the writers; the watermark does: a change committed after a lower,
 * still open version is held back from readers until that one commits or rolls back.
 */
describe('resource store: versions become visible in order', () => {
  let dataSource: DataSource;
  let database: TestDatabase;
  let store: ResourceStore;

  beforeAll(async () => {
    database = await createTestDatabase(inject('services').postgres.url, 'store');
    dataSource = createDataSource(database.url);
    await dataSource.initialize();
    await migrate(dataSource);
    store = new ResourceStore(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  /** Runs a write and keeps its transaction open until `release` is called. */
  function held(write: ObjectWrite): { version: Promise<string>; release: (commit: boolean) => void; done: Promise<unknown> } {
    let release: (commit: boolean) => void = () => undefined;
    const gate = new Promise<boolean>((resolve) => (release = resolve));
    let drawn: (rv: string) => void = () => undefined;
    const version = new Promise<string>((resolve) => (drawn = resolve));
    const done = store
      .transaction(async (tx) => {
        const created = await tx.create(write, new Date());
        drawn(created?.metadata.resourceVersion ?? '');
        if (!(await gate)) throw new Error('rolled back on purpose');
      })
      .catch(() => undefined);
    return { version, release, done };
  }

  it('holds a later commit back while a lower version is open, then delivers both in order', async () => {
    const start = await store.latestResourceVersion();
    const slow = held(node('slow', 'a'));
    const low = await slow.version;
    const high = (await store.transaction((tx) => tx.create(node('fast', 'a'), new Date())))?.metadata.resourceVersion;
    expect(Number(high)).toBeGreaterThan(Number(low));

    // The fast one committed, but a reader must not move past the open lower version.
    expect(await store.changesAfter(['Node'], start)).toEqual([]);
    expect(Number(await store.latestResourceVersion())).toBeLessThan(Number(low));
    const listed = await store.list('Node');
    expect(listed.items.map((i) => i.metadata.name)).toEqual([]);
    expect(Number(listed.resourceVersion)).toBeLessThan(Number(low));

    slow.release(true);
    await slow.done;
    const changes = await store.changesAfter(['Node'], start);
    expect(changes.map((c) => [c.type, c.object.metadata.name, c.object.metadata.resourceVersion])).toEqual([
      ['ADDED', 'slow', low],
      ['ADDED', 'fast', high],
    ]);
    expect(await store.latestResourceVersion()).toBe(high);
  });

  it('treats a rolled-back version as a gap', async () => {
    const start = await store.latestResourceVersion();
    const doomed = held(node('doomed', 'b'));
    await doomed.version;
    const kept = (await store.transaction((tx) => tx.create(node('kept', 'b'), new Date())))?.metadata.resourceVersion;
    expect(await store.changesAfter(['Node'], start)).toEqual([]);
    doomed.release(false);
    await doomed.done;
    expect((await store.changesAfter(['Node'], start)).map((c) => c.object.metadata.resourceVersion)).toEqual([kept]);
  });

  it('lists objects as they were at the watermark when later versions committed early', async () => {
    const slow = held(node('late', 'c'));
    const low = await slow.version;
    // Changes above the open version: one object modified, one created.
    await store.transaction(async (tx) => {
      const current = await tx.get('Node', 'fast', { lock: true });
      if (!current) throw new Error('fast is missing');
      await tx.update(current, { ...node('fast', 'changed') }, new Date());
      await tx.create(node('newer', 'c'), new Date());
    });
    const listed = await store.list('Node');
    expect(Number(listed.resourceVersion)).toBeLessThan(Number(low));
    expect(listed.items.map((i) => [i.metadata.name, i.metadata.labels['zone']])).toEqual([
      ['fast', 'a'],
      ['kept', 'b'],
      ['slow', 'a'],
    ]);
    slow.release(true);
    await slow.done;
    const after = await store.list('Node');
    expect(after.items.map((i) => [i.metadata.name, i.metadata.labels['zone']])).toEqual([
      ['fast', 'changed'],
      ['kept', 'b'],
      ['late', 'c'],
      ['newer', 'c'],
      ['slow', 'a'],
    ]);
  });
});
