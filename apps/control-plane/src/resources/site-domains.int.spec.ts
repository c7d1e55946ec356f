import { api, type ApiRequest } from '@pressluft/e2e-harness';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pgQuery } from '@pressluft/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';

/* Domains are unique across all sites (contract.md): a second claim is refused with 409 naming the field and the holder. */

const SITES = '/apis/pressluft.io/v1/sites';
const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const example = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8')) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };

type Obj = { metadata: { name: string; resourceVersion: string; finalizers?: string[] }; spec: { domains: string[] } };
type Status = { kind: string; code: number; reason: string; message: string; details?: { causes?: Array<{ field: string; message: string }> } };

function site(name: string, domains: string[], finalizers?: string[]): Record<string, unknown> {
  return { ...example, metadata: { name, ...(finalizers ? { finalizers } : {}) }, spec: { ...example.spec, domains } };
}

describe('domains are unique across sites', () => {
  let fx: ControlPlaneFixture;
  let call: <T = Obj>(path: string, options?: ApiRequest) => ReturnType<typeof api<T>>;

  /** Rows, changes, Events of a site and the domain table: a refusal must leave them all as they were. */
  async function state(): Promise<unknown> {
    const result = await pgQuery(
      fx.database.url,
      `SELECT (SELECT count(*) FROM resources)::int AS resources, (SELECT count(*) FROM resource_changes)::int AS changes,
              (SELECT json_agg(json_build_array(kind, name, resource_version::text) ORDER BY kind, name) FROM resources) AS objects,
              (SELECT json_agg(json_build_array(domain, site) ORDER BY domain) FROM site_domains) AS domains`,
    );
    return result.rows[0];
  }

  function expectTaken(res: { status: number; body: unknown }, field: string, domain: string, holder: string): void {
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    const status = res.body as Status;
    expect(status).toMatchObject({ kind: 'Status', code: 409, reason: 'Conflict' });
    expect(status.message).toContain(`domain ${domain} is already used by site ${holder}`);
    expect(status.details?.causes).toEqual([{ field, message: `domain ${domain} is already used by site ${holder}`, reason: 'FieldValueInvalid' }]);
  }

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ env: { PRESSLUFT_ENGINE: 'false' } });
    call = (path, options = {}) => api(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
    expect((await call(SITES, { method: 'POST', body: site('shop', ['shop.example.test', 'www.shop.example.test']) })).status).toBe(201);
  });

  afterAll(async () => {
    await fx?.stop();
  });

  it('refuses a create, replace or patch that claims a held domain, and changes nothing', async () => {
    expect((await call(SITES, { method: 'POST', body: site('blog', ['blog.example.test']) })).status).toBe(201);
    const before = await state();
    expectTaken(await call(SITES, { method: 'POST', body: site('copy', ['copy.example.test', 'www.shop.example.test']) }), 'spec.domains[1]', 'www.shop.example.test', 'shop');
    expectTaken(await call(`${SITES}?dryRun=All`, { method: 'POST', body: site('copy', ['shop.example.test']) }), 'spec.domains[0]', 'shop.example.test', 'shop');
    expectTaken(await call(`${SITES}/copy`, { method: 'PUT', body: site('copy', ['shop.example.test']) }), 'spec.domains[0]', 'shop.example.test', 'shop');
    expectTaken(await call(`${SITES}/blog`, { method: 'PUT', body: site('blog', ['blog.example.test', 'shop.example.test']) }), 'spec.domains[1]', 'shop.example.test', 'shop');
    expectTaken(await call(`${SITES}/blog`, { method: 'PATCH', contentType: MERGE, body: { spec: { domains: ['www.shop.example.test'] } } }), 'spec.domains[0]', 'www.shop.example.test', 'shop');
    expectTaken(
      await call(`${SITES}/blog?dryRun=All`, { method: 'PATCH', contentType: JSON_PATCH, body: [{ op: 'add', path: '/spec/domains/-', value: 'shop.example.test' }] }),
      'spec.domains[1]',
      'shop.example.test',
      'shop',
    );
    expect(await state()).toEqual(before);
    const events = await pgQuery(fx.database.url, `SELECT count(*)::int AS n FROM resources WHERE kind = 'Event' AND spec->'involvedObject'->>'name' = 'copy'`);
    expect(events.rows[0]).toEqual({ n: 0 });
  });

  it('lets a site keep, reorder and change its own domains, and a freed domain be taken', async () => {
    expect((await call(SITES, { method: 'POST', body: site('lake', ['lake.example.test', 'old.lake.example.test']) })).status).toBe(201);
    const kept = await call(`${SITES}/lake`, { method: 'PUT', body: site('lake', ['old.lake.example.test', 'lake.example.test']) });
    expect(kept.status).toBe(200);
    const freed = await call(`${SITES}/lake`, { method: 'PATCH', contentType: MERGE, body: { spec: { domains: ['lake.example.test', 'new.lake.example.test'] } } });
    expect(freed.status).toBe(200);
    expect((await call(SITES, { method: 'POST', body: site('pond', ['old.lake.example.test']) })).status).toBe(201);
    expectTaken(
      await call(`${SITES}/lake`, { method: 'PATCH', contentType: JSON_PATCH, body: [{ op: 'add', path: '/spec/domains/0', value: 'old.lake.example.test' }] }),
      'spec.domains[0]',
      'old.lake.example.test',
      'pond',
    );
    const domains = await pgQuery(fx.database.url, `SELECT domain, site FROM site_domains WHERE site IN ('lake', 'pond') ORDER BY domain`);
    expect(domains.rows).toEqual([
      { domain: 'lake.example.test', site: 'lake' },
      { domain: 'new.lake.example.test', site: 'lake' },
      { domain: 'old.lake.example.test', site: 'pond' },
    ]);
  });

  it('keeps a deleting site its domains until its row is gone', async () => {
    expect((await call(SITES, { method: 'POST', body: site('held', ['held.example.test'], ['example.test/hold']) })).status).toBe(201);
    expect((await call(`${SITES}/held`, { method: 'DELETE' })).status).toBe(202);
    expectTaken(await call(SITES, { method: 'POST', body: site('heir', ['held.example.test']) }), 'spec.domains[0]', 'held.example.test', 'held');
    const gone = await call(`${SITES}/held`, { method: 'PATCH', contentType: MERGE, body: { metadata: { finalizers: null } } });
    expect(gone.status).toBe(200);
    expect((await call(`${SITES}/held`)).status).toBe(404);
    expect((await call(SITES, { method: 'POST', body: site('heir', ['held.example.test']) })).status).toBe(201);

    expect((await call(SITES, { method: 'POST', body: site('brief', ['brief.example.test']) })).status).toBe(201);
    expect((await call(`${SITES}/brief`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(SITES, { method: 'POST', body: site('after', ['brief.example.test']) })).status).toBe(201);
  });

  it('lets exactly one of two concurrent creates claim a domain (20 pairs)', async () => {
    for (let i = 0; i < 20; i++) {
      const domain = `race-${i}.example.test`;
      const answers = await Promise.all(['a', 'b'].map((side) => call(SITES, { method: 'POST', body: site(`race-${i}-${side}`, [`own-${i}-${side}.example.test`, domain]) })));
      expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body))).toEqual([201, 409]);
      const winner = answers.find((a) => a.status === 201)?.body.metadata.name;
      const loser = answers.find((a) => a.status === 409);
      if (loser) expectTaken(loser, 'spec.domains[1]', domain, winner ?? '');
      const rows = await pgQuery(fx.database.url, `SELECT name FROM resources WHERE kind = 'Site' AND name LIKE $1`, [`race-${i}-%`]);
      expect(rows.rows).toEqual([{ name: winner }]);
    }
  });
});
