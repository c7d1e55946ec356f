import { api, type ApiRequest, changeCommittedWithAudit } from '@pressluft/e2e-harness';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pgQuery } from '@pressluft/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';

const SITES = '/apis/pressluft.io/v1/sites';
const exampleYaml = readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8');

type Obj = {
  kind?: string;
  metadata: { name: string; resourceVersion: string; generation: number; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; deletionTimestamp?: string; creationTimestamp?: string };
  spec: Record<string, unknown> & { domains?: string[]; wordpress?: { title?: string } };
  status: Record<string, unknown>;
};

function site(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = parseYaml(exampleYaml) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  return { ...base, metadata: { ...base.metadata, name }, spec: { ...base.spec, domains: [`${name}.example.test`] }, ...overrides };
}

describe('resource API on PostgreSQL', () => {
  let fx: ControlPlaneFixture;
  let call: <T = Obj>(path: string, options?: ApiRequest) => ReturnType<typeof api<T>>;

  /** The first `count` lines of a site watch from `resourceVersion` (fewer if `timeoutMs` passes first). */
  async function watchLines(resourceVersion: string, count: number, timeoutMs: number): Promise<Array<{ type: string; object: Obj }>> {
    const controller = new AbortController();
    const response = await fetch(`${fx.plane.httpUrl}${SITES}?watch=true&resourceVersion=${resourceVersion}`, {
      headers: { authorization: `Bearer ${fx.adminToken}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const lines: Array<{ type: string; object: Obj }> = [];
    const reader = response.body?.getReader();
    let buffer = '';
    const deadline = Date.now() + timeoutMs;
    while (reader && lines.length < count && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString('utf8');
      let index: number;
      while ((index = buffer.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, index)) as { type: string; object: Obj });
        buffer = buffer.slice(index + 1);
      }
    }
    controller.abort();
    return lines;
  }

  beforeAll(async () => {
    fx = await startControlPlaneFixture();
    call = (path, options = {}) => api(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
  });

  afterAll(async () => {
    await fx.stop();
  });

  it('creates, reads and lists a site; status starts PENDING and cannot be set by the user', async () => {
    const created = await call(SITES, { method: 'POST', body: { ...site('alpha'), status: { phase: 'ACTIVE' } } });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'alpha', generation: 1, labels: { team: 'web' } });
    expect(created.body.status).toMatchObject({ phase: 'PENDING' });
    expect(created.body.spec.wordpress).toMatchObject({ title: 'Shop' });

    const again = await call(SITES, { method: 'POST', body: site('alpha') });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', code: 409 });

    const got = await call(`${SITES}/alpha`);
    expect(got.body.metadata.uid).toBe(created.body.metadata.uid);
    const list = await call<{ kind: string; items: Obj[]; metadata: { resourceVersion: string } }>(SITES);
    expect(list.body.kind).toBe('SiteList');
    expect(list.body.items.map((i) => i.metadata.name)).toContain('alpha');
    expect(Number(list.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.body.metadata.resourceVersion));
  });

  it('bumps generation only for spec changes, keeps annotations, and refuses a stale resourceVersion', async () => {
    const created = (await call(SITES, { method: 'POST', body: site('beta') })).body;
    const labelled = await call(`${SITES}/beta`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { team: 'shop' }, annotations: { 'example.test/owner': 'ops' } } },
    });
    expect(labelled.status).toBe(200);
    expect(labelled.body.metadata.generation).toBe(1);
    expect(labelled.body.metadata.annotations).toEqual({ 'example.test/owner': 'ops' });
    expect(Number(labelled.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));

    const retitled = await call(`${SITES}/beta`, {
      method: 'PATCH',
      contentType: 'application/json-patch+json',
      body: [{ op: 'replace', path: '/spec/wordpress/title', value: 'Beta Shop' }],
    });
    expect(retitled.body.metadata.generation).toBe(2);
    expect(retitled.body.spec.wordpress?.title).toBe('Beta Shop');

    const stale = await call(`${SITES}/beta`, { method: 'PUT', body: { ...site('beta'), metadata: { name: 'beta', resourceVersion: created.metadata.resourceVersion } } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ kind: 'Status', reason: 'Conflict' });

    const unchanged = await call(`${SITES}/beta`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { team: 'shop' } } } });
    expect(unchanged.body.metadata.resourceVersion).toBe(retitled.body.metadata.resourceVersion);
  });

  it('takes metadata.uid as a precondition: its own uid (what kubectl replace sends back) passes, a patch can test it, nothing changes the uid', async () => {
    const created = (await call(SITES, { method: 'POST', body: { ...site('delta'), metadata: { name: 'delta', uid: '00000000-0000-4000-8000-000000000000' } } })).body;
    expect(created.metadata.uid).not.toBe('00000000-0000-4000-8000-000000000000');
    const replaced = await call(`${SITES}/delta`, { method: 'PUT', body: { ...created, spec: { ...created.spec, wordpress: { ...created.spec.wordpress, title: 'Delta' } } } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.metadata).toMatchObject({ uid: created.metadata.uid, generation: 2 });
    const tested = await call(`${SITES}/delta`, {
      method: 'PATCH',
      contentType: 'application/json-patch+json',
      body: [{ op: 'test', path: '/metadata/uid', value: created.metadata.uid }, { op: 'add', path: '/metadata/labels/tier', value: 'gold' }],
    });
    expect(tested.status).toBe(200);
    expect(tested.body.metadata).toMatchObject({ uid: created.metadata.uid, labels: { tier: 'gold' } });
    const ignored = await call(`${SITES}/delta`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { creationTimestamp: '2000-01-01T00:00:00Z', generation: 99 } } });
    expect(ignored.body.metadata).toMatchObject({ uid: created.metadata.uid, generation: 2, creationTimestamp: created.metadata.creationTimestamp });
  });

  it('accepts YAML on PUT (create, then replace) and answers a Table for kubectl', async () => {
    const yaml = exampleYaml.replace('name: shop', 'name: gamma').replace('shop.example.test', 'gamma.example.test');
    const created = await call(`${SITES}/gamma`, { method: 'PUT', raw: yaml, contentType: 'application/yaml' });
    expect(created.status).toBe(201);
    const replaced = await call(`${SITES}/gamma`, { method: 'PUT', raw: yaml.replace('title: Shop', 'title: Gamma'), contentType: 'application/yaml' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.metadata.generation).toBe(2);

    const table = await call<{ kind: string; columnDefinitions: Array<{ name: string; priority: number }>; rows: Array<{ cells: unknown[] }> }>(`${SITES}/gamma`, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    expect(table.body.kind).toBe('Table');
    expect(table.body.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['NAME', 'PHASE', 'NODE', 'DOMAINS', 'READY', 'AGE']);
    expect(table.body.rows[0]?.cells.slice(0, 4)).toEqual(['gamma', 'PENDING', 'local', 'gamma.example.test']);
  });

  it('filters lists by label selector and pages with limit/continue', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) {
      await call(SITES, { method: 'POST', body: { ...site(name), metadata: { name, labels: { tier: 'paged' } } } });
    }
    const selected = await call<{ items: Obj[] }>(`${SITES}?labelSelector=tier%3Dpaged`);
    expect(selected.body.items.map((i) => i.metadata.name)).toEqual(['page-a', 'page-b', 'page-c']);
    const first = await call<{ items: Obj[]; metadata: { continue?: string } }>(`${SITES}?labelSelector=tier%3Dpaged&limit=2`);
    expect(first.body.items.map((i) => i.metadata.name)).toEqual(['page-a', 'page-b']);
    const second = await call<{ items: Obj[]; metadata: { continue?: string } }>(
      `${SITES}?labelSelector=tier%3Dpaged&limit=2&continue=${encodeURIComponent(first.body.metadata.continue ?? '')}`,
    );
    expect(second.body.items.map((i) => i.metadata.name)).toEqual(['page-c']);
    expect(second.body.metadata.continue).toBeUndefined();
  });

  it('lets exactly one of two concurrent PUTs with the same resourceVersion win', async () => {
    const created = (await call(SITES, { method: 'POST', body: site('race') })).body;
    const put = (title: string) =>
      call(`${SITES}/race`, {
        method: 'PUT',
        body: { ...site('race'), metadata: { name: 'race', resourceVersion: created.metadata.resourceVersion }, spec: { ...site('race')['spec'] as object, wordpress: { version: '6.1', title, adminUser: 'admin', adminEmail: 'ops@example.test' } } },
      });
    const results = await Promise.all([put('One'), put('Two')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const final = (await call(`${SITES}/race`)).body;
    expect(final.metadata.generation).toBe(2);
  });

  it('deletes at once without finalizers, and waits for finalizers with a deletionTimestamp', async () => {
    await call(SITES, { method: 'POST', body: site('gone') });
    const deleted = await call(`${SITES}/gone`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await call(`${SITES}/gone`)).status).toBe(404);

    await call(SITES, { method: 'POST', body: { ...site('held'), metadata: { name: 'held', finalizers: ['pressluft.io/test-hold'] } } });
    const pending = await call(`${SITES}/held`, { method: 'DELETE' });
    expect(pending.status).toBe(202);
    expect(pending.body.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect((await call(`${SITES}/held`)).status).toBe(200);
    const released = await call(`${SITES}/held`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } });
    expect(released.status).toBe(200);
    expect((await call(`${SITES}/held`)).status).toBe(404);
  });

  it('records Kubernetes-style events per object, merging repeats by count', async () => {
    await call(SITES, { method: 'POST', body: site('evented') });
    await call(`${SITES}/evented`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Evented' } } } });
    const events = await call<{ items: Array<{ reason: string; type: string; count: number; involvedObject: { kind: string; name: string } }> }>(
      '/apis/pressluft.io/v1/events?involvedObject=sites/evented',
    );
    expect(events.status).toBe(200);
    expect(events.body.items.map((e) => [e.type, e.reason, e.involvedObject.name, e.count])).toEqual([['Normal', 'Created', 'evented', 1]]);
  });

  it('streams a watch from a resourceVersion: every later change in order, nothing older', async () => {
    const start = (await call(SITES, { method: 'POST', body: site('watched') })).body.metadata.resourceVersion;
    await call(`${SITES}/watched`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Watched One' } } } });
    await call(`${SITES}/watched`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Watched Two' } } } });
    await call(`${SITES}/watched`, { method: 'DELETE' });

    const lines = await watchLines(start, 3, 10_000);
    const watched = lines.filter((l) => l.object.metadata.name === 'watched');
    expect(watched.map((l) => [l.type, l.object.spec.wordpress?.title])).toEqual([
      ['MODIFIED', 'Watched One'],
      ['MODIFIED', 'Watched Two'],
      ['DELETED', 'Watched Two'],
    ]);
    const versions = lines.map((l) => Number(l.object.metadata.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions.every((v) => v > Number(start))).toBe(true);
  });

  it('streams every change of concurrent writers to a watch exactly once, in resourceVersion order', async () => {
    const writers = ['conc-a', 'conc-b', 'conc-c', 'conc-d'];
    let start = '0';
    for (const name of writers) start = (await call(SITES, { method: 'POST', body: site(name) })).body.metadata.resourceVersion;

    const watching = watchLines(start, writers.length * 15, 20_000);
    // Four writers at once, PUT and merge PATCH mixed, each site changed 15 times in sequence.
    await Promise.all(
      writers.map(async (name) => {
        for (let i = 1; i <= 15; i++) {
          const title = `${name} ${i}`;
          const written =
            i % 2 === 0
              ? await call(`${SITES}/${name}`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title } } } })
              : await call(`${SITES}/${name}`, { method: 'PUT', body: site(name, { spec: { ...(site(name)['spec'] as object), domains: [`${name}.example.test`], wordpress: { version: '6.1', title, adminUser: 'admin', adminEmail: 'ops@example.test' } } }) });
          expect(written.status).toBe(200);
        }
      }),
    );
    const lines = await watching;
    const versions = lines.map((l) => l.object.metadata.resourceVersion);
    const logged = (await pgQuery(fx.database.url, `SELECT resource_version::text AS rv FROM resource_changes WHERE kind = 'Site' AND resource_version > ${Number(start)} ORDER BY resource_version`)).rows as Array<{ rv: string }>;
    expect(versions).toEqual(logged.map((r) => r.rv));
    for (const name of writers) {
      expect(lines.filter((l) => l.object.metadata.name === name).map((l) => l.object.spec.wordpress?.title)).toEqual(Array.from({ length: 15 }, (_, i) => `${name} ${i + 1}`));
    }
    // A list is consistent with its resourceVersion: a watch from it has nothing left to replay.
    const list = await call<{ items: Obj[]; metadata: { resourceVersion: string } }>(SITES);
    expect(Number(list.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(logged[logged.length - 1]?.rv));
    expect(list.body.items.filter((i) => writers.includes(i.metadata.name)).map((i) => i.spec.wordpress?.title)).toEqual(writers.map((n) => `${n} 15`));
  });

  it('writes one audit row per mutation with the subject and the outcome, never the token; an accepted write commits its row with itself', async () => {
    const viewer = await fx.token('viewer', 'vera');
    type Row = { requestId: string; subject: string; verb: string; path: string; code: number };
    const rowsOf = async (ids: string[]) =>
      (await pgQuery(fx.database.url, 'SELECT request_id AS "requestId", subject, verb, path, code FROM audit_log WHERE request_id = ANY($1) ORDER BY id', [ids])).rows as Row[];
    const idOf = (response: { headers: Record<string, string | string[] | undefined> }) => String(response.headers['audit-id']);

    const refused = await api(fx.plane.httpUrl, SITES, { method: 'POST', token: viewer, body: site('audited') });
    const created = await call(SITES, { method: 'POST', body: site('audited') });
    expect([refused.status, created.status]).toEqual([403, 201]);
    // An accepted write's row is committed by the transaction that wrote the change (the same xmin): no crash can part them.
    expect(await rowsOf([idOf(created)])).toEqual([{ requestId: idOf(created), subject: 'admin', verb: 'POST', path: SITES, code: 201 }]);
    expect(await changeCommittedWithAudit(fx.database.url, created)).toBe(true);

    const original = site('audited');
    const edited = { ...original, spec: { ...(original['spec'] as Record<string, unknown>), php: { memoryLimit: '512M', maxChildren: 5 } } };
    const changed = await call(`${SITES}/audited`, { method: 'PUT', body: edited });
    expect(await rowsOf([idOf(changed)])).toEqual([{ requestId: idOf(changed), subject: 'admin', verb: 'PUT', path: `${SITES}/audited`, code: 200 }]);
    expect(await changeCommittedWithAudit(fx.database.url, changed)).toBe(true);
    // Outcomes without a committed write are written by the edge after the response: a dry run, a no-op, a refusal.
    const dryRun = await call(`${SITES}/audited?dryRun=All`, { method: 'PUT', body: site('audited') });
    const unchanged = await call(`${SITES}/audited`, { method: 'PUT', body: edited });
    const removed = await call(`${SITES}/audited`, { method: 'DELETE' });
    const responses = [refused, created, changed, dryRun, unchanged, removed];
    const ids = responses.map(idOf);
    expect(new Set(ids).size).toBe(responses.length);
    let rows: Row[] = [];
    for (let i = 0; i < 50 && rows.length < responses.length; i++) {
      rows = await rowsOf(ids);
      if (rows.length < responses.length) await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 50));
    rows = await rowsOf(ids);
    // Exactly one row per request, and each says what the response said.
    expect(Object.fromEntries(rows.map((r) => [r.requestId, r.code]))).toEqual(Object.fromEntries(responses.map((r) => [idOf(r), r.status])));
    expect(rows).toHaveLength(responses.length);
    expect(rows.find((r) => r.requestId === idOf(refused))).toMatchObject({ subject: 'vera', verb: 'POST', code: 403 });
    expect(rows.find((r) => r.requestId === idOf(removed))).toMatchObject({ subject: 'admin', verb: 'DELETE', path: `${SITES}/audited` });
    const dump = JSON.stringify((await pgQuery(fx.database.url, 'SELECT * FROM audit_log')).rows);
    expect(dump).not.toContain(fx.adminToken);
    expect(dump).not.toContain(viewer);
  });

  it('decides every write on the newest state when another replica wrote meanwhile (the write cache is only a hint)', async () => {
    // A second control plane on the same database: its writes leave this one's cached object stale.
    const replica = await startControlPlaneFixture({ database: fx.database });
    try {
      const titled = (title: string, extra: Record<string, unknown> = {}) => {
        const base = site('cached');
        return { ...base, metadata: { ...(base['metadata'] as object), ...extra }, spec: { ...(base['spec'] as object), wordpress: { version: '6.1', title, adminUser: 'admin', adminEmail: 'ops@example.test' } } };
      };
      const viaReplica = (body: unknown) => api<Obj>(replica.plane.httpUrl, `${SITES}/cached`, { method: 'PUT', token: fx.adminToken, body });
      const title = async () => (await pgQuery(fx.database.url, `SELECT spec #>> '{wordpress,title}' AS t FROM resources WHERE kind = 'Site' AND name = 'cached'`)).rows[0]?.t as string;
      const first = (await call(`${SITES}/cached`, { method: 'PUT', body: titled('One') })).body;
      await call(`${SITES}/cached`, { method: 'PUT', body: titled('Two') }); // cached here now: "Two"
      await viaReplica(titled('Three'));

      // What this plane's cache holds is no longer what is stored: re-applying it is a change.
      const back = await call(`${SITES}/cached`, { method: 'PUT', body: titled('Two') });
      expect(back.status).toBe(200);
      expect(await title()).toBe('Two');
      expect(back.body.metadata.resourceVersion).toBe(String((await pgQuery(fx.database.url, `SELECT resource_version::text AS rv FROM resources WHERE name = 'cached'`)).rows[0]?.rv));

      // The replica's own manifest again: nothing changes.
      const other = (await viaReplica(titled('Four'))).body;
      const same = await call(`${SITES}/cached`, { method: 'PUT', body: titled('Four') });
      expect(same.status).toBe(200);
      expect(same.body.metadata.resourceVersion).toBe(other.metadata.resourceVersion);

      // The newest resourceVersion is accepted (no false 409 from a stale cache); an old one is refused.
      await call(`${SITES}/cached`, { method: 'PUT', body: titled('Five') });
      const newest = (await viaReplica(titled('Six'))).body;
      const fresh = await call(`${SITES}/cached`, { method: 'PUT', body: titled('Seven', { resourceVersion: newest.metadata.resourceVersion }) });
      expect(fresh.status).toBe(200);
      expect(fresh.body.metadata.generation).toBe(newest.metadata.generation + 1);
      const stale = await call(`${SITES}/cached`, { method: 'PUT', body: titled('Eight', { resourceVersion: first.metadata.resourceVersion }) });
      expect(stale.status).toBe(409);

      const row = (await pgQuery(fx.database.url, `SELECT spec #>> '{wordpress,title}' AS title, generation::int AS generation FROM resources WHERE kind = 'Site' AND name = 'cached'`)).rows[0];
      expect(row).toEqual({ title: 'Seven', generation: fresh.body.metadata.generation });
    } finally {
      await replica.stop();
    }
  });
});
