import type { AuditPage, AuditRecord } from '@pressluft/domain';
import { api, until, V1 } from '@pressluft/e2e-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';

/*
 * GET /auth/v1/audit on a real control plane: the rows the API's own mutations left (accepted and
 * refused), filtered on the server by subject, verb, path prefix, code, outcome and time, newest
 * first, paged with the `before` cursor; admins only; a bad parameter is a 400 naming it; no
 * token text in any row.
 */

const AUDIT = '/auth/v1/audit';
const node = (name: string) => ({ apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name }, spec: { provider: 'static' } });

describe('the audit log API', () => {
  let fx: ControlPlaneFixture;
  let operator: string;
  let viewer: string;
  const secrets: string[] = [];
  let start: string;
  let middle: string;

  const read = (query: string, token = fx.adminToken) => api<AuditPage & { reason?: string; details?: { causes?: Array<{ field: string }> } }>(fx.plane.httpUrl, `${AUDIT}${query}`, { token });
  const call = (path: string, token: string, method: string, body?: unknown) => api(fx.plane.httpUrl, path, { token, method, body });

  beforeAll(async () => {
    fx = await startControlPlaneFixture();
    operator = await fx.token('operator', 'olga');
    viewer = await fx.token('viewer', 'vera');
    secrets.push(fx.adminToken, operator, viewer);
    start = new Date().toISOString();
    expect((await call(`${V1}/nodes`, fx.adminToken, 'POST', node('web-1'))).status).toBe(201);
    expect((await call(`${V1}/nodes`, operator, 'POST', node('web-2'))).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 50));
    middle = new Date().toISOString();
    expect((await call(`${V1}/nodes/web-1`, viewer, 'DELETE')).status).toBe(403);
    const created = await call('/auth/v1/tokens', fx.adminToken, 'POST', { subject: 'ci', role: 'viewer' });
    expect(created.status).toBe(201);
    secrets.push(String(created.body['token']));
    expect((await call(`/auth/v1/tokens/${String(created.body['id'])}`, fx.adminToken, 'DELETE')).status).toBe(200);
    // Refusals are written once answered: wait until all five are there.
    await until('five audit rows', async () => ((await read('?limit=1000')).body.items.length >= 5 ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    await fx?.stop();
  });

  it('answers newest first with who, what, the outcome and when, and never a token', async () => {
    const { status, body, text } = await read('');
    expect(status).toBe(200);
    expect(body.items.map((r) => [r.subject, r.verb, r.path, r.code])).toEqual([
      ['admin', 'DELETE', expect.stringMatching(/^\/auth\/v1\/tokens\/[0-9a-f-]{36}$/), 200],
      ['admin', 'POST', '/auth/v1/tokens', 201],
      ['vera', 'DELETE', `${V1}/nodes/web-1`, 403],
      ['olga', 'POST', `${V1}/nodes`, 403],
      ['admin', 'POST', `${V1}/nodes`, 201],
    ]);
    const times = body.items.map((r) => Date.parse(r.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(body.items[2]).toMatchObject({ reason: 'Forbidden', count: 1, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(Date.parse(body.items[0]?.at ?? '')).toBeGreaterThan(Date.parse(start) - 1000);
    expect(body.next).toBeUndefined();
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('filters by subject, verb, path prefix, code, outcome and time range', async () => {
    const rows = async (query: string): Promise<Array<Pick<AuditRecord, 'subject' | 'verb' | 'code'>>> =>
      (await read(query)).body.items.map(({ subject, verb, code }) => ({ subject, verb, code }));
    expect(await rows('?subject=olga')).toEqual([{ subject: 'olga', verb: 'POST', code: 403 }]);
    expect(await rows('?verb=delete')).toEqual([
      { subject: 'admin', verb: 'DELETE', code: 200 },
      { subject: 'vera', verb: 'DELETE', code: 403 },
    ]);
    expect((await rows(`?path=${encodeURIComponent(`${V1}/nodes`)}`)).map((r) => r.subject)).toEqual(['vera', 'olga', 'admin']);
    expect((await rows('?path=/auth/v1/')).map((r) => r.code)).toEqual([200, 201]);
    expect(await rows('?outcome=refused')).toEqual([
      { subject: 'vera', verb: 'DELETE', code: 403 },
      { subject: 'olga', verb: 'POST', code: 403 },
    ]);
    expect((await rows('?outcome=ok')).map((r) => r.code)).toEqual([200, 201, 201]);
    expect((await rows('?code=201&subject=admin')).map((r) => r.verb)).toEqual(['POST', 'POST']);
    expect((await rows(`?since=${middle}`)).map((r) => r.subject)).toEqual(['admin', 'admin', 'vera']);
    expect((await rows(`?since=${start}&until=${middle}`)).map((r) => r.subject)).toEqual(['olga', 'admin']);
    expect(await rows('?subject=nobody')).toEqual([]);
  });

  it('pages with the before cursor until the oldest row, without gaps or repeats', async () => {
    const all = (await read('')).body.items.map((r) => r.id);
    const seen: string[] = [];
    let query = '?limit=2';
    for (;;) {
      const { body } = await read(query);
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((r) => r.id));
      if (!body.next) break;
      query = `?limit=2&before=${body.next}`;
    }
    expect(seen).toEqual(all);
    const lastPage = await read(`?limit=2&before=${all[3] ?? ''}`);
    expect(lastPage.body.items.map((r) => r.id)).toEqual([all[4]]);
    expect(lastPage.body.next).toBeUndefined();
  });

  it('is for admins only: 403 for an operator and a viewer, 401 without a token', async () => {
    for (const token of [operator, viewer]) {
      const refused = await read('?limit=5', token);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    }
    expect((await api(fx.plane.httpUrl, AUDIT)).status).toBe(401);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['verb=GETS', 'verb'],
    ['code=99', 'code'],
    ['outcome=maybe', 'outcome'],
    ['since=yesterday', 'since'],
    ['until=2026-13-01T00:00:00Z', 'until'],
    ['since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z', 'until'],
    ['before=-1', 'before'],
    ['before=abc', 'before'],
    ['path=nodes', 'path'],
    ['subject=Robert%27);DROP', 'subject'],
    ['subject=a&subject=b', 'subject'],
    ['sujbect=olga', 'sujbect'],
  ])('answers 400 naming the parameter for %s', async (query, field) => {
    const refused = await read(`?${query}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect(refused.body.details?.causes?.map((c) => c.field)).toEqual([field]);
  });
});
