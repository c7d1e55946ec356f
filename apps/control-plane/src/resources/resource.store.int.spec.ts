import { createTestDatabase, pgQuery, type TestDatabase } from '@pressluft/testing';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDataSource, migrate } from '../persistence/data-source.js';
import { CHANGE_CHANNEL, kindsNotified, ResourceStore, type ObjectWrite, type RequestAudit } from './resource.store.js';

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
    expect((await store.changesAfter(['Node'], start)).changes).toEqual([]);
    expect(Number(await store.latestResourceVersion())).toBeLessThan(Number(low));
    const listed = await store.list('Node');
    expect(listed.items.map((i) => i.metadata.name)).toEqual([]);
    expect(Number(listed.resourceVersion)).toBeLessThan(Number(low));

    slow.release(true);
    await slow.done;
    const { changes } = await store.changesAfter(['Node'], start);
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
    expect((await store.changesAfter(['Node'], start)).changes).toEqual([]);
    doomed.release(false);
    await doomed.done;
    expect((await store.changesAfter(['Node'], start)).changes.map((c) => c.object.metadata.resourceVersion)).toEqual([kept]);
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

  describe('an audited write', () => {
    const audit = (requestId: string): RequestAudit => ({
      kind: 'Node',
      at: new Date(),
      subject: 'auditor',
      verb: 'PUT',
      path: `/apis/pressluft.io/v1/nodes/${requestId}`,
      requestId,
      code: (change) => ({ ADDED: 201, MODIFIED: 200, DELETED: 204 })[change],
    });
    const rowsOf = async (requestId: string) =>
      (await pgQuery(database.url, 'SELECT subject, verb, code FROM audit_log WHERE request_id = $1', [requestId])).rows as Array<{ subject: string; verb: string; code: number }>;

    it('commits the audit row in the statement that writes the object, coded by what the write did', async () => {
      const audited = await store.transaction(async (tx) => {
        // Only the request's kind carries the row: an Event written first does not take it.
        await tx.create({ ...node('audit-event', 'd'), kind: 'Event' }, new Date());
        expect(tx.audited).toBe(false);
        await tx.create(node('audited', 'd'), new Date());
        return tx.audited;
      }, { audit: audit('req-create') });
      expect(audited).toBe(true);
      expect(await rowsOf('req-create')).toEqual([{ subject: 'auditor', verb: 'PUT', code: 201 }]);

      const removed = await store.optimistically(async (tx) => {
        const current = await tx.get('Node', 'audited');
        if (!current) throw new Error('audited is missing');
        await tx.remove(current, new Date());
        return tx.audited;
      }, { audit: audit('req-remove') });
      expect(removed).toEqual({ value: true });
      expect(await rowsOf('req-remove')).toEqual([{ subject: 'auditor', verb: 'PUT', code: 204 }]);
    });

    it('leaves no audit row when the write rolls back or its compare-and-swap finds a newer version', async () => {
      await expect(
        store.transaction(async (tx) => {
          await tx.create(node('rolled-back', 'e'), new Date());
          expect(tx.audited).toBe(true);
          throw new Error('rolled back on purpose');
        }, { audit: audit('req-rollback') }),
      ).rejects.toThrow('rolled back on purpose');
      expect(await rowsOf('req-rollback')).toEqual([]);

      const stale = await store.transaction((tx) => tx.create(node('stale', 'e'), new Date()));
      if (!stale) throw new Error('stale was not created');
      await store.transaction(async (tx) => {
        const current = await tx.get('Node', 'stale', { lock: true });
        if (current) await tx.update(current, { ...node('stale', 'newer') }, new Date());
      });
      // The compare-and-swap on the old version writes nothing, so neither the object nor the row.
      const lost = await store.optimistically((tx) => tx.update(stale, { ...node('stale', 'lost') }, new Date()), { audit: audit('req-stale') });
      expect(lost).toBeUndefined();
      expect(await rowsOf('req-stale')).toEqual([]);
      expect((await store.get('Node', 'stale'))?.metadata.labels['zone']).toBe('newer');
    });
  });
});

describe('resource store: change notifications', () => {
  let dataSource: DataSource;
  let database: TestDatabase;
  let store: ResourceStore;

  beforeAll(async () => {
    database = await createTestDatabase(inject('services').postgres.url, 'notify');
    dataSource = createDataSource(database.url);
    await dataSource.initialize();
    await migrate(dataSource);
    store = new ResourceStore(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('notifies after commits, naming the kinds written', async () => {
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    try {
      const payloads: string[] = [];
      listener.on('notification', (message) => payloads.push(message.payload ?? ''));
      await listener.query(`LISTEN ${CHANGE_CHANNEL}`);
      await Promise.all([
        store.transaction((tx) => tx.create(node('notified', 'n'), new Date())),
        store.transaction((tx) => tx.create({ ...node('notified', 'n'), kind: 'Site' }, new Date())),
      ]);
      // One notification when both commit within the coalescing window, two otherwise.
      const named = () => new Set(payloads.flatMap((payload) => [...(kindsNotified(payload) ?? ['(unnamed)'])]));
      await expect.poll(named).toEqual(new Set(['Node', 'Site']));
      // A notification that names nothing (an older replica's) may stand for any kind.
      expect(kindsNotified('')).toBeUndefined();
    } finally {
      await listener.end();
    }
  });
});
