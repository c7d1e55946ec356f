import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { api, writeKubeconfig, type ApiRequest } from '@pressluft/e2e-harness';
import { pgQuery } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { ResourceStore } from '../resources/resource.store.js';
import { BackupStoreSecrets } from './backup-store.secrets.js';
import { DefaultBackupStore } from './default-backup-store.js';
import { LAST_APPLIED_ANNOTATION } from '../secrets/write-only-credentials.js';

/*
 * BackupStore credentials through the real API on PostgreSQL: write-only (never in an answer, a
 * watch, the change log, the audit log or the object), encrypted at rest, kept or changed with
 * the object's write, and gone with it.
 */

const STORES = '/apis/pressluft.io/v1/backupstores';
const MERGE = 'application/merge-patch+json';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

type Store = {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status: { credentials?: { set: boolean; updatedAt?: string; version: number } };
};
type Status = { code: number; reason: string; message: string; details?: { causes?: Array<{ field: string; message: string }> } };

const FIRST = 'first-password-Xq7vT2';
const SECOND = 'second-password-Lm9pR4';
const KUBECTL_FIRST = 'kubectl-password-Wy6sD1';
const KUBECTL_SECOND = 'kubectl-password-Pe3uG7';
const SSH_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nkey-material-Zt5wQ8\n-----END OPENSSH PRIVATE KEY-----\n';
const PLAINTEXTS = [FIRST, SECOND, KUBECTL_FIRST, KUBECTL_SECOND, 'key-material-Zt5wQ8'];
const KUBECTL = '/usr/bin/kubectl';

function store(name: string, repository: string, credentials?: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'pressluft.io/v1', kind: 'BackupStore', metadata: { name }, spec: { repository, ...(credentials ? { credentials } : {}) } };
}

function expectNoPlaintext(text: string): void {
  for (const secret of PLAINTEXTS) expect(text).not.toContain(secret);
}

describe('BackupStore credentials (write-only, encrypted at rest)', () => {
  let fx: ControlPlaneFixture;
  let call: <T = Store>(path: string, options?: ApiRequest) => ReturnType<typeof api<T>>;
  let secrets: BackupStoreSecrets;
  /** The first store's first version: a watch from it replays every later change. */
  let firstVersion: string;

  const secretRow = async (name: string) =>
    (await pgQuery(fx.database.url, `SELECT ciphertext, nonce, version FROM resource_secrets WHERE kind = 'BackupStore' AND name = $1`, [name])).rows[0] as
      | { ciphertext: Buffer; nonce: Buffer; version: number }
      | undefined;

  let dir: string;

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ https: true });
    dir = mkdtempSync(join(tmpdir(), 'pressluft-stores-'));
    call = (path, options = {}) => api(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
    secrets = fx.plane.app.get(BackupStoreSecrets);
  });

  afterAll(async () => {
    await fx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the key file on first start: 32 bytes, readable by the owner only', () => {
    const file = join(dirname(fx.pkiDir), 'secrets.key');
    expect(readFileSync(file)).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('takes credentials on create, answers only that they are set, and keeps them encrypted', async () => {
    const created = await call(STORES, { method: 'POST', body: store('offsite', '/srv/backups/offsite', { password: FIRST, sshPrivateKey: SSH_KEY }) });
    expect(created.status, created.text).toBe(201);
    firstVersion = created.body.metadata.resourceVersion;
    expectNoPlaintext(created.text);
    expect(created.body.spec).toEqual({ repository: '/srv/backups/offsite' });
    expect(created.body.status.credentials).toEqual({ set: true, version: 1, updatedAt: expect.any(String) });

    const row = await secretRow('offsite');
    expect(row?.version).toBe(1);
    expect(row?.nonce).toHaveLength(12);
    expectNoPlaintext(row?.ciphertext.toString('latin1') ?? '');
    expect(await secrets.access('offsite')).toEqual({ repository: '/srv/backups/offsite', password: FIRST, sshPrivateKey: SSH_KEY });
  });

  it('strips them from kubectl apply: the last-applied annotation, and a re-apply of the same secret changes nothing', async () => {
    const manifest = store('applied', '/srv/backups/applied', { password: FIRST });
    const lastApplied = JSON.stringify(manifest);
    const body = { ...manifest, metadata: { name: 'applied', annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } } };
    const created = await call(STORES, { method: 'POST', body });
    expect(created.status, created.text).toBe(201);
    expectNoPlaintext(created.text);
    const annotation = created.body.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '';
    expect(JSON.parse(annotation)).toEqual({ apiVersion: 'pressluft.io/v1', kind: 'BackupStore', metadata: { name: 'applied' }, spec: { repository: '/srv/backups/applied' } });

    // What kubectl apply sends for an unchanged manifest whose live object lacks the credentials.
    const reapplied = await call(`${STORES}/applied`, {
      method: 'PATCH',
      contentType: MERGE,
      body: { metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } }, spec: { credentials: { password: FIRST } } },
    });
    expect(reapplied.status, reapplied.text).toBe(200);
    expectNoPlaintext(reapplied.text);
    expect(reapplied.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
    expect(reapplied.body.status.credentials?.version).toBe(1);
    expect((await secretRow('applied'))?.version).toBe(1);
  });

  it('keeps stored credentials on a write without them, changes them on a new secret, and a dry run stores nothing', async () => {
    const before = await call(`${STORES}/offsite`);
    const same = await call(`${STORES}/offsite`, { method: 'PUT', body: store('offsite', '/srv/backups/offsite', { password: FIRST, sshPrivateKey: SSH_KEY }) });
    expect(same.status, same.text).toBe(200);
    expect(same.body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);

    const without = await call(`${STORES}/offsite`, { method: 'PUT', body: store('offsite', '/srv/backups/moved') });
    expect(without.status, without.text).toBe(200);
    expect(without.body.status.credentials?.version).toBe(1);
    expect(await secrets.access('offsite')).toEqual({ repository: '/srv/backups/moved', password: FIRST, sshPrivateKey: SSH_KEY });

    const dry = await call(`${STORES}/offsite?dryRun=All`, { method: 'PATCH', contentType: MERGE, body: { spec: { credentials: { password: SECOND } } } });
    expect(dry.status, dry.text).toBe(200);
    expectNoPlaintext(dry.text);
    expect((await secretRow('offsite'))?.version).toBe(1);
    expect((await secrets.access('offsite'))?.password).toBe(FIRST);

    const changed = await call(`${STORES}/offsite`, { method: 'PATCH', contentType: MERGE, body: { spec: { credentials: { password: SECOND } } } });
    expect(changed.status, changed.text).toBe(200);
    expectNoPlaintext(changed.text);
    expect(changed.body.status.credentials?.version).toBe(2);
    expect(changed.body.metadata.resourceVersion).not.toBe(without.body.metadata.resourceVersion);
    expect(await secrets.access('offsite')).toEqual({ repository: '/srv/backups/moved', password: SECOND });
  });

  it('never shows them in a GET, a list, a Table or a watch', async () => {
    const answers = [
      await call(`${STORES}/offsite`),
      await call(STORES),
      await call(`${STORES}/offsite`, { accept: TABLE }),
      await call(STORES, { accept: TABLE }),
      await call(`${STORES}/offsite`, { accept: 'application/yaml' }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expectNoPlaintext(answer.text);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    const response = await fetch(`${fx.plane.httpUrl}${STORES}?watch=true&resourceVersion=${firstVersion}`, { headers: { authorization: `Bearer ${fx.adminToken}` }, signal: controller.signal });
    const reader = response.body?.getReader();
    let text = '';
    // Every change since: the second store, the repository move and the new password.
    while (reader && text.split('\n').length <= 3) {
      const chunk = await reader.read().catch(() => undefined);
      if (!chunk || chunk.done) break;
      text += Buffer.from(chunk.value).toString('utf8');
    }
    clearTimeout(timer);
    controller.abort();
    expect(text.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED']);
    expectNoPlaintext(text);
  });

  it('kubectl apply: a re-apply changes nothing on the server, a new password is a new version; kubectl get never shows it', async () => {
    const https = fx.plane.https;
    if (!https) throw new Error('the fixture started no HTTPS listener');
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: writeKubeconfig(dir, { server: https.url, caCert: https.caCert, token: fx.adminToken }) };
    const kubectl = async (...args: string[]) => (await promisify(execFile)(KUBECTL, args, { env })).stdout.trim();
    const manifest = join(dir, 'store.yaml');
    const write = (password: string) =>
      writeFileSync(manifest, `apiVersion: pressluft.io/v1\nkind: BackupStore\nmetadata:\n  name: kubectl\nspec:\n  repository: /srv/backups/kubectl\n  credentials:\n    password: ${password}\n`);

    write(KUBECTL_FIRST);
    expect(await kubectl('apply', '-f', manifest)).toBe('backupstore.pressluft.io/kubectl created');
    const created = await call(`${STORES}/kubectl`);
    // kubectl sends the credentials again each time (its annotation cannot hold them) and says
    // "configured"; the server compares them with the stored ones and writes nothing.
    expect(await kubectl('apply', '-f', manifest)).toBe('backupstore.pressluft.io/kubectl configured');
    expect((await call(`${STORES}/kubectl`)).body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
    expect((await secretRow('kubectl'))?.version).toBe(1);
    write(KUBECTL_SECOND);
    expect(await kubectl('apply', '-f', manifest)).toBe('backupstore.pressluft.io/kubectl configured');
    expect((await secretRow('kubectl'))?.version).toBe(2);
    expect((await secrets.access('kubectl'))?.password).toBe(KUBECTL_SECOND);
    const shown = await kubectl('get', 'backupstore', 'kubectl', '-o', 'yaml');
    expect(shown).toContain('last-applied-configuration');
    expectNoPlaintext(shown);
    expectNoPlaintext(await kubectl('get', 'backupstores'));
    expect((await call(`${STORES}/kubectl`, { method: 'DELETE' })).status).toBe(200);
  });

  it('keeps them out of the objects, the change log and the audit log in PostgreSQL', async () => {
    const dump = await pgQuery(
      fx.database.url,
      `SELECT (SELECT json_agg(r) FROM resources r)::text AS objects, (SELECT json_agg(c) FROM resource_changes c)::text AS changes, (SELECT json_agg(a) FROM audit_log a)::text AS audit`,
    );
    const row = dump.rows[0] as { objects: string; changes: string; audit: string };
    expect(row.changes).toContain('offsite');
    expect(row.audit).toContain('backupstores');
    expectNoPlaintext(JSON.stringify(row));
    expect(JSON.stringify(row)).not.toContain('"credentials":{"password"');
  });

  it('refuses a repository that is not a restic repository (422 naming the field)', async () => {
    for (const repository of ['relative/path', 'sftp://user:secret@host/path', '/srv/../etc']) {
      const refused = await call<Status>(STORES, { method: 'POST', body: store('bad', repository, { password: FIRST }) });
      expect(refused.status, refused.text).toBe(422);
      expect(refused.body.details?.causes?.map((c) => c.field)).toEqual(['spec.repository']);
      expectNoPlaintext(refused.text);
    }
    expect(await secretRow('bad')).toBeUndefined();
  });

  it('refuses deleting a store that Backups name (409 naming them), and removes the secret with the store', async () => {
    const resources = fx.plane.app.get(ResourceStore);
    const now = new Date();
    // Backups made through the store (their own admission rules are not this test's subject).
    await resources.transaction(async (tx) => {
      for (const [name, spec, status] of [
        ['shop-1', { site: 'shop', reason: 'manual', retain: false, store: 'offsite' }, { phase: 'PENDING', observedGeneration: 0, conditions: [] }],
        ['shop-2', { site: 'shop', reason: 'manual', retain: false }, { phase: 'SUCCEEDED', observedGeneration: 1, conditions: [], store: 'offsite' }],
      ] as const) {
        await tx.create({ kind: 'Backup', name, labels: {}, annotations: {}, finalizers: [], spec, status, generation: 1 }, now);
      }
    });
    const refused = await call<Status>(`${STORES}/offsite`, { method: 'DELETE' });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.message).toContain('backups still use this store: shop-1, shop-2');
    expect(await secretRow('offsite')).toBeDefined();

    for (const name of ['shop-1', 'shop-2']) expect((await call(`/apis/pressluft.io/v1/backups/${name}`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`${STORES}/offsite`, { method: 'DELETE' })).status).toBe(200);
    expect(await secretRow('offsite')).toBeUndefined();
    expect(await secrets.access('offsite')).toBeUndefined();
  });

  it('creates the default store at start (PRESSLUFT_DEFAULT_BACKUP_REPOSITORY) once, also when replicas ensure it at the same time, and never replaces it', async () => {
    // Another replica on the same database and key file, started with the setting.
    const replica = await startControlPlaneFixture({
      database: fx.database,
      env: { PRESSLUFT_DEFAULT_BACKUP_REPOSITORY: '/srv/backups/default', PRESSLUFT_SECRETS_KEY_FILE: join(dirname(fx.pkiDir), 'secrets.key') },
    });
    try {
      const created = await call(`${STORES}/local`);
      expect(created.status).toBe(200);
      expect(created.body.spec).toEqual({ repository: '/srv/backups/default' });
      expect(created.body.status.credentials).toMatchObject({ set: true, version: 1 });
      expect(await replica.plane.app.get(BackupStoreSecrets).access('local')).toEqual(await secrets.access('local'));
    } finally {
      await replica.stop();
    }
    const ensure = fx.plane.app.get(DefaultBackupStore);
    await Promise.all([ensure.ensure('/srv/backups/default'), ensure.ensure('/srv/backups/default'), ensure.ensure('/srv/backups/other')]);
    expect((await call(`${STORES}/local`)).body.status.credentials).toMatchObject({ set: true, version: 1 });
    const access = await secrets.access('local');
    expect(access).toEqual({ repository: '/srv/backups/default', password: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const events = await pgQuery(fx.database.url, `SELECT count(*)::int AS n FROM resources WHERE kind = 'Event' AND spec->'involvedObject'->>'name' = 'local'`);
    expect(events.rows[0]).toEqual({ n: 1 });

    await ensure.ensure('/srv/backups/elsewhere');
    expect(await secrets.access('local')).toEqual(access);
  });
});
