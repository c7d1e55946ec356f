import { api, type ApiRequest } from '@pressluft/e2e-harness';
import { pgQuery } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { SiteSecrets } from './site.secrets.js';
import { LAST_APPLIED_ANNOTATION } from './write-only-credentials.js';

/*
 * A Site's write-only spec.credentials through the real API on PostgreSQL: taken out before
 * anything stores the site (never in an answer, a Table, the change log or the audit log),
 * encrypted in resource_secrets, merged by field ("" removes one), required by spec.tls (422
 * naming the field), and gone with the site.
 */

const SITES = '/apis/pressluft.io/v1/sites';
const MERGE = 'application/merge-patch+json';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
const KEY = '-----BEGIN PRIVATE KEY-----\nS2V5TWF0ZXJpYWxRdzRaOXhUMg==\n-----END PRIVATE KEY-----\n';
const KEY_MATERIAL = 'S2V5TWF0ZXJpYWxRdzRaOXhUMg';
const NEW_KEY = '-----BEGIN PRIVATE KEY-----\nTmV3S2V5TWF0ZXJpYWxQbDhWMw==\n-----END PRIVATE KEY-----\n';
const TOKEN = 'dns-token-Rk4mW9zQ2';
const PLAINTEXTS = [KEY_MATERIAL, 'TmV3S2V5TWF0ZXJpYWxQbDhWMw', TOKEN];
const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nQ2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
const CUSTOM = { mode: 'custom', custom: { certificate: CERTIFICATE } };
const DNS01 = { acme: { challenge: 'dns-01', dns: { provider: 'cloudflare' } } };

type Site = {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status: { credentials?: { fields: string[]; updatedAt?: string; version: number } };
};
type Status = { code: number; message: string; details?: { causes?: Array<{ field: string; message: string }> } };

function site(name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'pressluft.io/v1',
    kind: 'Site',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { domains: [`${name}.example.test`], wordpress: { version: '6.4', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' }, ...spec },
  };
}

function expectNoPlaintext(text: string): void {
  for (const secret of PLAINTEXTS) expect(text).not.toContain(secret);
}

describe('Site credentials (write-only, encrypted at rest)', () => {
  let fx: ControlPlaneFixture;
  let call: <T = Site>(path: string, options?: ApiRequest) => ReturnType<typeof api<T>>;
  let secrets: SiteSecrets;

  const secretRow = async (name: string) =>
    (await pgQuery(fx.database.url, `SELECT ciphertext, version FROM resource_secrets WHERE kind = 'Site' AND name = $1`, [name])).rows[0] as { ciphertext: Buffer; version: number } | undefined;

  beforeAll(async () => {
    fx = await startControlPlaneFixture();
    call = (path, options = {}) => api(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
    secrets = fx.plane.app.get(SiteSecrets);
  });

  afterAll(async () => {
    await fx?.stop();
  });

  it('takes the key out of the spec and the last-applied annotation, stores it encrypted, and answers only which fields are stored', async () => {
    const manifest = site('shop', { tls: CUSTOM, credentials: { tlsPrivateKey: KEY } });
    const created = await call(SITES, { method: 'POST', body: { ...manifest, metadata: { name: 'shop', annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(manifest) } } } });
    expect(created.status, created.text).toBe(201);
    expectNoPlaintext(created.text);
    expect(created.body.spec['credentials']).toBeUndefined();
    expect(JSON.parse(created.body.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '{}').spec.credentials).toBeUndefined();
    expect(created.body.status.credentials).toEqual({ fields: ['tlsPrivateKey'], version: 1, updatedAt: expect.any(String) });
    const row = await secretRow('shop');
    expect(row?.version).toBe(1);
    expectNoPlaintext(row?.ciphertext.toString('latin1') ?? '');
    expect(await secrets.field('shop', 'tlsPrivateKey')).toBe(KEY);
    expect(await secrets.field('shop', 'dnsApiToken')).toBeUndefined();
  });

  it('refuses a spec.tls whose credential is neither stored nor given (422 naming the field), and stores nothing', async () => {
    const custom = await call<Status>(SITES, { method: 'POST', body: site('nokey', { tls: CUSTOM }) });
    expect(custom.status, custom.text).toBe(422);
    expect(custom.body.details?.causes?.map((c) => c.field)).toEqual(['spec.credentials.tlsPrivateKey']);
    const dns = await call<Status>(SITES, { method: 'POST', body: site('notoken', { tls: DNS01, credentials: { tlsPrivateKey: KEY } }) });
    expect(dns.status, dns.text).toBe(422);
    expect(dns.body.details?.causes?.map((c) => c.field)).toEqual(['spec.credentials.dnsApiToken']);
    expectNoPlaintext(dns.text);
    expect(await secretRow('notoken')).toBeUndefined();
    expect((await call(`${SITES}/notoken`)).status).toBe(404);

    const toDns = await call<Status>(`${SITES}/shop`, { method: 'PATCH', contentType: MERGE, body: { spec: { tls: { mode: 'acme', custom: null, ...DNS01 } } } });
    expect(toDns.status, toDns.text).toBe(422);
    expect(toDns.body.details?.causes?.map((c) => c.field)).toEqual(['spec.credentials.dnsApiToken']);
  });

  it('merges by field: a field given is added, one absent stays, the same value again writes nothing, "" removes one', async () => {
    const added = await call(`${SITES}/shop`, { method: 'PATCH', contentType: MERGE, body: { spec: { credentials: { dnsApiToken: TOKEN } } } });
    expect(added.status, added.text).toBe(200);
    expectNoPlaintext(added.text);
    expect(added.body.status.credentials).toMatchObject({ fields: ['tlsPrivateKey', 'dnsApiToken'], version: 2 });
    expect(await secrets.field('shop', 'tlsPrivateKey')).toBe(KEY);
    expect(await secrets.field('shop', 'dnsApiToken')).toBe(TOKEN);

    const again = await call(`${SITES}/shop`, { method: 'PATCH', contentType: MERGE, body: { spec: { credentials: { dnsApiToken: TOKEN, tlsPrivateKey: KEY } } } });
    expect(again.status, again.text).toBe(200);
    expect(again.body.metadata.resourceVersion).toBe(added.body.metadata.resourceVersion);
    expect((await secretRow('shop'))?.version).toBe(2);

    const dry = await call(`${SITES}/shop?dryRun=All`, { method: 'PATCH', contentType: MERGE, body: { spec: { credentials: { tlsPrivateKey: NEW_KEY } } } });
    expect(dry.status, dry.text).toBe(200);
    expect(await secrets.field('shop', 'tlsPrivateKey')).toBe(KEY);

    const replaced = await call(`${SITES}/shop`, { method: 'PUT', body: site('shop', { tls: CUSTOM, credentials: { tlsPrivateKey: NEW_KEY } }) });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body.status.credentials).toMatchObject({ fields: ['tlsPrivateKey', 'dnsApiToken'], version: 3 });
    expect(await secrets.field('shop', 'tlsPrivateKey')).toBe(NEW_KEY);

    const cleared = await call(`${SITES}/shop`, { method: 'PATCH', contentType: MERGE, body: { spec: { credentials: { dnsApiToken: '' } } } });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.status.credentials).toMatchObject({ fields: ['tlsPrivateKey'], version: 4 });
    expect(await secrets.field('shop', 'dnsApiToken')).toBeUndefined();

    const keyNeeded = await call<Status>(`${SITES}/shop`, { method: 'PATCH', contentType: MERGE, body: { spec: { credentials: { tlsPrivateKey: '' } } } });
    expect(keyNeeded.status, keyNeeded.text).toBe(422);
    expect(keyNeeded.body.details?.causes?.map((c) => c.field)).toEqual(['spec.credentials.tlsPrivateKey']);
    expect(await secrets.field('shop', 'tlsPrivateKey')).toBe(NEW_KEY);

    // A write without credentials (labels, spec) keeps them and still satisfies spec.tls.
    const labelled = await call(`${SITES}/shop`, { method: 'PATCH', contentType: MERGE, body: { metadata: { labels: { team: 'web' } } } });
    expect(labelled.status, labelled.text).toBe(200);
    expect(labelled.body.status.credentials).toMatchObject({ fields: ['tlsPrivateKey'], version: 4 });
  });

  it('refuses a malformed key (422 naming the field) without echoing it', async () => {
    const refused = await call<Status>(`${SITES}/shop`, { method: 'PATCH', contentType: MERGE, body: { spec: { credentials: { tlsPrivateKey: `not a key ${KEY_MATERIAL}` } } } });
    expect(refused.status, refused.text).toBe(422);
    expect(refused.body.details?.causes?.map((c) => c.field)).toEqual(['spec.credentials.tlsPrivateKey']);
    expectNoPlaintext(refused.text);
  });

  it('never shows them in a GET, a list, a Table or PostgreSQL outside resource_secrets', async () => {
    for (const answer of [await call(`${SITES}/shop`), await call(SITES), await call(`${SITES}/shop`, { accept: TABLE }), await call(SITES, { accept: TABLE })]) {
      expect(answer.status).toBe(200);
      expectNoPlaintext(answer.text);
    }
    const dump = await pgQuery(
      fx.database.url,
      `SELECT (SELECT json_agg(r) FROM resources r)::text AS objects, (SELECT json_agg(c) FROM resource_changes c)::text AS changes, (SELECT json_agg(a) FROM audit_log a)::text AS audit`,
    );
    const row = dump.rows[0] as { objects: string; changes: string; audit: string };
    expect(row.audit).toContain('sites');
    expectNoPlaintext(JSON.stringify(row));
  });

  it('lets an operator set them (the roles that write Sites); a viewer is refused and stores nothing', async () => {
    const operator = await fx.token('operator', 'site-operator');
    const viewer = await fx.token('viewer', 'site-viewer');
    const byOperator = await call(SITES, { method: 'POST', token: operator, body: site('ops', { tls: DNS01, credentials: { dnsApiToken: TOKEN } }) });
    expect(byOperator.status, byOperator.text).toBe(201);
    expect(byOperator.body.status.credentials).toMatchObject({ fields: ['dnsApiToken'], version: 1 });
    const byViewer = await call<Status>(`${SITES}/ops`, { method: 'PATCH', token: viewer, contentType: MERGE, body: { spec: { credentials: { dnsApiToken: 'viewer-token-123' } } } });
    expect(byViewer.status, byViewer.text).toBe(403);
    expect(await secrets.field('ops', 'dnsApiToken')).toBe(TOKEN);
  });

  it('removes the secret with the site', async () => {
    const deleted = await call(`${SITES}/shop`, { method: 'DELETE' });
    expect(deleted.status, deleted.text).toBe(200);
    expect(await secretRow('shop')).toBeUndefined();
    expect(await secrets.field('shop', 'tlsPrivateKey')).toBeUndefined();
  });
});
