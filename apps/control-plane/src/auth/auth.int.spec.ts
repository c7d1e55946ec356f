import { api, type ApiRequest, type ApiResponse, committedWithAudit } from '@pressluft/e2e-harness';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import { pgQuery } from '@pressluft/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceStore } from '../resources/resource.store.js';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';

/*
 * Who may do what (contract.md, auth/policy.ts): viewer reads everything; operator also
 * changes sites; admin also nodes and API tokens. Events and commands are read-only for
 * everyone (405). No token: 401, except for the probes and /version. Every mutation, accepted
 * or refused, leaves an audit row with the caller's subject and never a token.
 */

const API = '/apis/pressluft.io/v1';
const TOKENS = '/auth/v1/tokens';
const MERGE = 'application/merge-patch+json';
const HOLD = 'pressluft.io/test-hold';

type Obj = Record<string, unknown>;
type Role = 'admin' | 'operator' | 'viewer';
type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
type Plural = 'sites' | 'nodes' | 'events' | 'commands';

const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];
const VERBS: readonly Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const PLURALS: readonly Plural[] = ['sites', 'nodes', 'events', 'commands'];
const SUBJECTS: Readonly<Record<Role, string>> = { admin: 'admin', operator: 'olga', viewer: 'vera' };

const exampleSite = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8')) as { metadata: Obj; spec: Obj };
const exampleNode = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/node.yaml'), 'utf8')) as { metadata: Obj; spec: Obj };

function site(name: string, metadata: Obj = {}): Obj {
  return { ...exampleSite, metadata: { ...exampleSite.metadata, name, ...metadata }, spec: { ...exampleSite.spec, domains: [`${name}.example.test`] } };
}

function node(name: string, metadata: Obj = {}): Obj {
  return { ...exampleNode, metadata: { ...exampleNode.metadata, name, ...metadata }, spec: { ...exampleNode.spec } };
}

/** What each role gets for each verb on each kind. */
function expectedStatus(role: Role, verb: Verb, plural: Plural): number {
  if (verb === 'get' || verb === 'list' || verb === 'watch') return 200;
  if (plural === 'events' || plural === 'commands') return 405;
  const allowed = role === 'admin' || (role === 'operator' && plural === 'sites');
  if (!allowed) return 403;
  if (verb === 'create') return 201;
  // Sites to delete carry a finalizer (202: deletion requested); nodes have none (200: gone).
  if (verb === 'delete') return plural === 'sites' ? 202 : 200;
  return 200;
}

const mutationTarget = (verb: Verb, role: Role) => (verb === 'get' ? 'update-admin' : `${verb}-${role}`);

const REASONS: Readonly<Record<number, string>> = { 401: 'Unauthorized', 403: 'Forbidden', 405: 'MethodNotAllowed', 422: 'Invalid' };

type CallOptions = ApiRequest & { readonly as?: Role | 'none'; readonly subject?: string };

interface AuditRow {
  subject: string;
  verb: string;
  path: string;
  code: number;
}

describe('authentication and authorisation', () => {
  let fx: ControlPlaneFixture;
  const tokens = {} as Record<Role, string>;
  /** Every mutation this test sends, with the audit row it must leave. */
  const sent: AuditRow[] = [];
  /** Objects of the read-only kinds (made by the control plane, not through the API). */
  const existing = {} as Record<Plural, string>;
  /** Every token text this test has seen: none may appear in the audit log. */
  const secrets: string[] = [];

  /**
   * A request as one of the roles (admin by default), as nobody, or with an explicit token and
   * the subject the audit log must show for it; mutations are remembered for the audit check.
   */
  const call = async <T = Obj>(path: string, options: CallOptions = {}): Promise<ApiResponse<T>> => {
    const { as: who = 'admin', subject, ...request } = options;
    const token = request.token ?? (who === 'none' ? undefined : tokens[who]);
    const res = await api<T>(fx.plane.httpUrl, path, { ...request, token });
    const method = request.method ?? 'GET';
    if (method !== 'GET') {
      const expectedSubject = subject ?? (request.token !== undefined || who === 'none' ? 'anonymous' : SUBJECTS[who]);
      sent.push({ subject: expectedSubject, verb: method, path: path.split('?')[0] ?? path, code: res.status });
    }
    return res;
  };

  /** A watch answers its status line and then streams; only the status line matters here. */
  const watchStatus = (path: string, token: string): Promise<number> =>
    new Promise((resolvePromise, reject) => {
      const req = httpRequest(new URL(path, fx.plane.httpUrl), { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
        resolvePromise(res.statusCode ?? 0);
        res.on('error', () => undefined);
        req.destroy();
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    // The engine's reconcilers would add their own finalizers and statuses; this test is about the API's gate.
    fx = await startControlPlaneFixture({ env: { PRESSLUFT_ENGINE: 'false' } });
    tokens.admin = fx.adminToken;
    tokens.operator = await fx.token('operator', SUBJECTS.operator);
    tokens.viewer = await fx.token('viewer', SUBJECTS.viewer);
    secrets.push(...Object.values(tokens));

    // Per role an object to replace, one to patch and one to delete, for both writable kinds.
    for (const role of ROLES) {
      for (const verb of ['update', 'patch', 'delete'] as const) {
        const name = `${verb}-${role}`;
        const hold = verb === 'delete' ? { finalizers: [HOLD] } : {};
        expect((await call(`${API}/sites`, { method: 'POST', body: site(name, hold) })).status).toBe(201);
        expect((await call(`${API}/nodes`, { method: 'POST', body: node(name) })).status).toBe(201);
      }
    }
    const events = await call<{ items: Array<{ metadata: { name: string } }> }>(`${API}/events`);
    existing.events = events.body.items[0]?.metadata.name ?? '';
    expect(existing.events).not.toBe('');
    // Commands come from the reconciler only; one is written the way it writes them.
    existing.commands = 'update-admin-1';
    await fx.plane.app.get(ResourceStore).transaction((tx) =>
      tx.create(
        {
          kind: 'Command',
          name: existing.commands,
          labels: { 'pressluft.io/site': 'update-admin' },
          annotations: {},
          finalizers: [],
          spec: { site: 'update-admin', node: 'local', fence: 1, operation: 'ProvisionSite' },
          status: { state: 'PENDING', log: [] },
          generation: 1,
        },
        new Date(),
      ),
    );
    expect((await call(`${API}/commands/${existing.commands}`)).status).toBe(200);
  });

  afterAll(async () => {
    await fx?.stop();
  });

  describe('the role x verb x kind matrix', () => {
    const matrix = PLURALS.flatMap((plural) => ROLES.flatMap((role) => VERBS.map((verb) => ({ plural, role, verb, code: expectedStatus(role, verb, plural) }))));

    it('covers 3 roles x 7 verbs x 4 kinds', () => {
      expect(matrix).toHaveLength(84);
    });

    it.each(matrix)('$role $verb $plural -> $code', async ({ plural, role, verb, code }) => {
      const collection = `${API}/${plural}`;
      const readOnly = plural === 'events' || plural === 'commands';
      // Reads look at an object no test removes; each mutation has its own object per role.
      const target = readOnly ? existing[plural] : mutationTarget(verb, role);
      const fresh = `create-${role}`;
      const mutation = verb !== 'get' && verb !== 'list' && verb !== 'watch';
      const before = mutation && verb !== 'create' ? await call<{ metadata: { resourceVersion: string } }>(`${collection}/${target}`) : undefined;

      let res: ApiResponse;
      switch (verb) {
        case 'get':
          res = await call(`${collection}/${target}`, { as: role });
          break;
        case 'list':
          res = await call(collection, { as: role });
          break;
        case 'watch': {
          expect(await watchStatus(`${collection}?watch=true&timeoutSeconds=1`, tokens[role])).toBe(code);
          return;
        }
        case 'create': {
          const body = plural === 'sites' ? site(fresh) : plural === 'nodes' ? node(fresh) : { apiVersion: 'pressluft.io/v1', kind: plural === 'events' ? 'Event' : 'Command', metadata: { name: fresh } };
          res = await call(collection, { as: role, method: 'POST', body });
          break;
        }
        case 'update': {
          const body = plural === 'sites' ? site(target, { labels: { updated: role } }) : plural === 'nodes' ? node(target, { labels: { updated: role } }) : { apiVersion: 'pressluft.io/v1', metadata: { name: target } };
          res = await call(`${collection}/${target}`, { as: role, method: 'PUT', body });
          break;
        }
        case 'patch':
          res = await call(`${collection}/${target}`, { as: role, method: 'PATCH', contentType: MERGE, body: { metadata: { labels: { patched: role } } } });
          break;
        case 'delete':
          res = await call(`${collection}/${target}`, { as: role, method: 'DELETE' });
          break;
      }

      expect(res.status, res.text.slice(0, 300)).toBe(code);
      if (code >= 400) {
        expect(res.body).toMatchObject({ kind: 'Status', status: 'Failure', code, reason: REASONS[code] });
        // A refused mutation changed nothing.
        if (verb === 'create') expect((await call(`${collection}/${fresh}`)).status).toBe(404);
        else if (before) expect((await call<{ metadata: { resourceVersion: string } }>(`${collection}/${target}`)).body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);
        return;
      }
      const object = res.body as { kind?: string; items?: unknown[]; metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string } };
      const kind = { sites: 'Site', nodes: 'Node', events: 'Event', commands: 'Command' }[plural];
      switch (verb) {
        case 'list':
          expect(object.kind).toBe(`${kind}List`);
          expect(object.items?.length).toBeGreaterThan(0);
          break;
        case 'get':
          expect(object).toMatchObject({ kind, metadata: { name: target } });
          break;
        case 'create':
          expect(object).toMatchObject({ kind, metadata: { name: fresh } });
          break;
        case 'update':
          expect(object.metadata.labels).toMatchObject({ updated: role });
          break;
        case 'patch':
          expect(object.metadata.labels).toMatchObject({ patched: role });
          break;
        case 'delete':
          if (code === 202) expect(object.metadata.deletionTimestamp).toEqual(expect.any(String));
          expect((await call(`${collection}/${target}`)).status).toBe(code === 202 ? 200 : 404);
          break;
      }
    });
  });

  describe('without a token', () => {
    it.each([`${API}/sites`, `${API}/nodes/update-admin`, `${API}/events`, '/api/v1/events', API, '/apis', TOKENS])('GET %s -> 401', async (path) => {
      const res = await call(path, { as: 'none' });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    });

    it('refuses a mutation with 401 and audits it as anonymous', async () => {
      const res = await call(`${API}/sites`, { as: 'none', method: 'POST', body: site('anonymous-site') });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
      expect((await call(`${API}/sites/anonymous-site`)).status).toBe(404);
    });

    it.each(['/healthz', '/readyz', '/version'])('%s answers without a token', async (path) => {
      const res = await call(path, { as: 'none' });
      expect(res.status, res.text).toBe(200);
      expect(res.body).not.toMatchObject({ kind: 'Status' });
    });
  });

  describe('API tokens', () => {
    const tokenRows = async () => (await pgQuery(fx.database.url, 'SELECT id, subject, role, token_hash, revoked_at FROM api_tokens ORDER BY id')).rows as Array<Obj>;
    /** The request's audit row and the token row as it is now were committed by one transaction. */
    const auditedWithToken = (response: ApiResponse<unknown>, id: string) =>
      committedWithAudit(fx.database.url, response, 'SELECT xmin::text FROM api_tokens WHERE id = $2::uuid', [id]);

    it('shows a new token once, lists tokens without their text or hash, and revokes them', async () => {
      const created = await call<{ id: string; token: string; subject: string; role: string; createdBy: string; createdAt: string }>(TOKENS, {
        method: 'POST',
        body: { subject: 'ci-bot', role: 'operator' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ subject: 'ci-bot', role: 'operator', createdBy: 'admin', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      const token = created.body.token;
      expect(token).toMatch(/^plt_[A-Za-z0-9_-]{43}$/);
      secrets.push(token);
      const hash = createHash('sha256').update(token).digest('hex');

      const list = await call<{ items: Array<Obj> }>(TOKENS);
      expect(list.status).toBe(200);
      expect(list.body.items.find((t) => t['id'] === created.body.id)).toMatchObject({ subject: 'ci-bot', role: 'operator' });
      for (const item of list.body.items) {
        expect(Object.keys(item)).not.toContain('token');
        expect(Object.keys(item).join(' ')).not.toMatch(/hash/i);
      }
      for (const secret of secrets) expect(list.text).not.toContain(secret);
      expect(list.text).not.toContain(hash);
      expect(list.text).not.toContain(createHash('sha256').update(fx.adminToken).digest('hex'));
      // Stored as a hash only.
      const stored = (await tokenRows()).find((r) => r['id'] === created.body.id);
      expect(stored?.['token_hash']).toBe(hash);
      // The new token and the audit row of its creation committed together.
      expect(await auditedWithToken(created, created.body.id)).toBe(true);

      // The new token works with its role: sites yes, nodes no.
      const bot = (path: string, options: ApiRequest = {}) => call(path, { ...options, token, subject: 'ci-bot' });
      expect((await bot(`${API}/sites`)).status).toBe(200);
      expect((await bot(`${API}/sites`, { method: 'POST', body: site('bot-site') })).status).toBe(201);
      expect((await bot(`${API}/nodes`, { method: 'POST', body: node('bot-node') })).status).toBe(403);

      const revoked = await call<{ id: string; revokedAt?: string }>(`${TOKENS}/${created.body.id}`, { method: 'DELETE' });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ id: created.body.id, revokedAt: expect.any(String) });
      expect(revoked.text).not.toContain(token);
      expect(await auditedWithToken(revoked, created.body.id)).toBe(true);

      const refused = await call(`${API}/sites`, { token });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
      const refusedWrite = await call(`${API}/sites`, { method: 'POST', body: site('bot-late'), token, subject: 'anonymous' });
      expect(refusedWrite.status).toBe(401);
      expect((await call(`${API}/sites/bot-late`)).status).toBe(404);
      expect((await call<{ items: Array<Obj> }>(TOKENS)).body.items.find((t) => t['id'] === created.body.id)).toMatchObject({ revokedAt: expect.any(String) });
    });

    it.each(['operator', 'viewer'] as const)('%s can neither list, create nor revoke tokens (403)', async (role) => {
      const before = await tokenRows();
      const adminId = String(before.find((r) => r['subject'] === 'admin')?.['id']);
      const list = await call(TOKENS, { as: role });
      const create = await call(TOKENS, { as: role, method: 'POST', body: { subject: `${role}-escalated`, role: 'admin' } });
      const revoke = await call(`${TOKENS}/${adminId}`, { as: role, method: 'DELETE' });
      for (const res of [list, create, revoke]) {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden' });
      }
      expect(await tokenRows()).toEqual(before);
    });

    const BAD_REQUESTS: ReadonlyArray<readonly [string, Obj, readonly string[]]> = [
      ['a subject with ;', { subject: 'ci;rm -rf /', role: 'viewer' }, ['subject']],
      ['a subject with $( )', { subject: 'ci$(id)', role: 'viewer' }, ['subject']],
      ['a subject with backticks', { subject: 'ci`id`', role: 'viewer' }, ['subject']],
      ['a subject with a pipe', { subject: 'ci|sh', role: 'viewer' }, ['subject']],
      ['a subject with a newline', { subject: 'ci\nadmin', role: 'viewer' }, ['subject']],
      ['a subject with path traversal', { subject: '../../etc/passwd', role: 'viewer' }, ['subject']],
      ['an upper-case subject', { subject: 'CI', role: 'viewer' }, ['subject']],
      ['an empty subject', { subject: '', role: 'viewer' }, ['subject']],
      ['a numeric subject', { subject: 42, role: 'viewer' }, ['subject']],
      ['no subject', { role: 'viewer' }, ['subject']],
      ['role root', { subject: 'ci', role: 'root' }, ['role']],
      ['role Admin', { subject: 'ci', role: 'Admin' }, ['role']],
      ['no role', { subject: 'ci' }, ['role']],
      ['both wrong', { subject: 'x y', role: 'root' }, ['subject', 'role']],
    ];
    it.each(BAD_REQUESTS)('refuses a token request with %s (422)', async (_label, body, fields) => {
      const before = await tokenRows();
      const res = await call<{ details?: { causes?: Array<{ field: string }> } }>(TOKENS, { method: 'POST', body });
      expect(res.status, res.text).toBe(422);
      expect(res.body).toMatchObject({ kind: 'Status', code: 422, reason: 'Invalid' });
      const causes = (res.body.details?.causes ?? []).map((c) => c.field);
      for (const field of fields) expect(causes).toContain(field);
      expect(res.body).not.toHaveProperty('token');
      expect(await tokenRows()).toEqual(before);
    });
  });

  describe('the audit log', () => {
    it('has one row per mutation with the caller (accepted and refused alike), and never a token', async () => {
      const expected = sent.map((r) => JSON.stringify(r)).sort();
      let rows: AuditRow[] = [];
      for (let i = 0; i < 100 && rows.length < sent.length; i++) {
        rows = (await pgQuery(fx.database.url, 'SELECT subject, verb, path, code FROM audit_log ORDER BY id')).rows as AuditRow[];
        if (rows.length < sent.length) await new Promise((r) => setTimeout(r, 20));
      }
      expect(rows.map((r) => JSON.stringify({ subject: r.subject, verb: r.verb, path: r.path, code: r.code })).sort()).toEqual(expected);

      // Spot checks of the matrix: the refused rows carry who was refused.
      expect(rows).toEqual(
        expect.arrayContaining([
          { subject: 'olga', verb: 'POST', path: `${API}/sites`, code: 201 },
          { subject: 'olga', verb: 'POST', path: `${API}/nodes`, code: 403 },
          { subject: 'vera', verb: 'DELETE', path: `${API}/sites/delete-viewer`, code: 403 },
          { subject: 'vera', verb: 'PUT', path: `${API}/events/${existing.events}`, code: 405 },
          { subject: 'ci-bot', verb: 'POST', path: `${API}/sites`, code: 201 },
          { subject: 'ci-bot', verb: 'POST', path: `${API}/nodes`, code: 403 },
          { subject: 'anonymous', verb: 'POST', path: `${API}/sites`, code: 401 },
        ]),
      );

      const dump = JSON.stringify((await pgQuery(fx.database.url, 'SELECT * FROM audit_log')).rows);
      for (const secret of secrets) {
        expect(dump).not.toContain(secret);
        expect(dump).not.toContain(createHash('sha256').update(secret).digest('hex'));
      }
    });
  });
});
