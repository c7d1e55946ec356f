import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { until, V1, ControlPlaneProcesses, type ApiObject, NodeStack, SiteShell } from '@pressluft/e2e-harness';
import { httpRequest } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/*
 * Issue 17, end to end on real parts: a real agent backs a WordPress site up into the default
 * restic store (made by the control plane at start), the site is damaged through WP-CLI and
 * restored while a loop of requests counts every answer that is not 200; a deletion takes a
 * pre-delete backup first, and the deleted site comes back from it under a new name and domain.
 */

const NODE = 'b1';
const SITE = 'bkp';
const DOMAIN = 'bkp.example.test';
const COPY = 'bkp2';
const COPY_DOMAIN = 'bkp2.example.test';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

describe('backups and restore with restic (end to end)', () => {
  const services = inject('services');
  let processes: ControlPlaneProcesses;
  let stack: NodeStack;
  let shell: SiteShell;
  const figures: Record<string, number> = {};

  const front = (domain: string, path = '/') => httpRequest(`http://127.0.0.1:${stack.sitesPort}${path}`, { host: domain, timeoutMs: 5000 }).catch((error: unknown) => ({ status: 0, body: String(error) }));
  const runWhere = (kind: string, name: string, phases: readonly string[], timeoutMs = 120_000) =>
    until(`${kind} ${name} in ${phases.join('/')}`, async () => {
      const response = await stack.call(`${V1}/${kind}/${name}`);
      return response.status === 200 && phases.includes(String(response.body.status?.phase)) ? response.body : undefined;
    }, timeoutMs, async () => `${JSON.stringify((await stack.call(`${V1}/${kind}/${name}`)).body)}\n${stack.explain()}`);
  const create = async (body: Record<string, unknown>) => {
    const kind = String(body['kind']).toLowerCase();
    const response = await stack.call(`${V1}/${kind}s`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', ...body } });
    expect(response.status, response.text).toBe(201);
    return response.body;
  };
  const wp = (site: string, args: readonly string[]) => shell.wp(site, args);
  const upload = (site: string) => shell.upload(site, 'marker.txt');
  const writeUpload = (site: string, text: string) => shell.writeUpload(site, 'marker.txt', text);
  const timed = async <T>(name: string, task: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await task();
    figures[name] = Math.round(performance.now() - started);
    return result;
  };

  beforeAll(async () => {
    processes = await ControlPlaneProcesses.build();
    stack = await NodeStack.start(processes, services, 'backup');
    shell = new SiteShell((await stack.startAgent(NODE)).sitesRoot);
    await stack.waitNodeReady(NODE, 60_000);
  }, 180_000);

  afterAll(async () => {
    for (const site of [SITE, COPY]) {
      if ((await stack?.call(`${V1}/sites/${site}`))?.status === 200) {
        await stack.call(`${V1}/sites/${site}`, { method: 'PATCH', body: { spec: { backup: { skipPreDeleteBackup: true } } }, contentType: 'application/merge-patch+json' }).catch(() => undefined);
        await stack.call(`${V1}/sites/${site}`, { method: 'DELETE' });
        await stack.waitSiteGone(site, 90_000).catch(() => undefined);
      }
    }
    await stack?.stop();
    await processes?.stop();
    console.log(`backup-restore figures (ms): ${JSON.stringify(figures)}`);
  }, 240_000);

  it('the control plane made the default store; its credentials are never shown', async () => {
    const store = (await stack.call(`${V1}/backupstores/local`)).body;
    expect(store.spec).not.toHaveProperty('credentials');
    expect(store.status).toMatchObject({ credentials: { set: true } });
  });

  it('a site with content is backed up: SUCCEEDED with its snapshots, sizes, release and WordPress version', async () => {
    await create({ kind: 'Site', metadata: { name: SITE }, spec: { domains: [DOMAIN], nodeName: NODE, wordpress: { version: '6.1', title: 'Backup', adminUser: 'admin', adminEmail: 'ops@example.test' } } });
    const site = await stack.waitSiteReady(SITE, 120_000);
    await wp(SITE, ['post', 'create', '--post_title=Pressluft backup marker', '--post_status=publish']);
    await wp(SITE, ['option', 'update', 'pressluft_marker', 'before-the-damage']);
    writeUpload(SITE, 'uploaded before the backup\n');

    await create({ kind: 'Backup', metadata: { name: 'bkp-manual' }, spec: { site: SITE } });
    const backup = await timed('backup', () => runWhere('backups', 'bkp-manual', ['SUCCEEDED', 'FAILED']));
    expect(backup.status, JSON.stringify(backup.status)).toMatchObject({ phase: 'SUCCEEDED', store: 'local', release: (site.status as { currentRelease: string }).currentRelease });
    const status = backup.status as { snapshots: Record<string, string>; bytesAdded: number; bytesTotal: number; wordpressVersion: string };
    expect(Object.keys(status.snapshots).sort()).toEqual(['database', 'files', 'manifest']);
    expect(status.bytesTotal).toBeGreaterThan(1_000_000);
    expect(status.wordpressVersion).toMatch(/^6\./);
  });

  it('damaged through WP-CLI, then restored: the content is back and the site answered 200 throughout', async () => {
    const postId = await wp(SITE, ['post', 'list', '--title=Pressluft backup marker', '--format=ids']);
    await wp(SITE, ['post', 'delete', postId, '--force']);
    await wp(SITE, ['option', 'update', 'pressluft_marker', 'broken']);
    rmSync(upload(SITE));
    expect(await wp(SITE, ['post', 'list', '--title=Pressluft backup marker', '--format=count'])).toBe('0');

    // The shared nginx's error log from here on: what it said about a failed request, if one fails.
    const errorLog = join(services.nginx.sitesDir, '..', 'logs', 'error.log');
    const logFrom = statSync(errorLog).size;
    let requests = 0;
    const failures: string[] = [];
    let looping = true;
    const loop = (async () => {
      while (looping) {
        const answer = await front(DOMAIN);
        requests += 1;
        if (answer.status !== 200) failures.push(`${answer.status} at ${new Date().toISOString()}: ${answer.body.slice(0, 160)}`);
      }
    })();
    try {
      await create({ kind: 'Restore', metadata: { name: 'bkp-restore' }, spec: { backup: 'bkp-manual' } });
      const restore = await timed('restore', () => runWhere('restores', 'bkp-restore', ['SUCCEEDED', 'FAILED'], 180_000));
      expect(restore.status, JSON.stringify(restore.status)).toMatchObject({ phase: 'SUCCEEDED', site: SITE });
      const pre = String((restore.status as { preRestoreBackup?: string }).preRestoreBackup);
      expect((await stack.call(`${V1}/backups/${pre}`)).body).toMatchObject({ spec: { site: SITE, reason: 'pre-restore' }, status: { phase: 'SUCCEEDED' } });
      await stack.waitSiteReady(SITE, 60_000);
    } finally {
      looping = false;
      await loop;
    }
    figures['requestsDuringRestore'] = requests;
    expect(requests).toBeGreaterThan(10);
    expect(failures, failures.length > 0 ? readFileSync(errorLog, 'utf8').slice(logFrom, logFrom + 20_000) : '').toEqual([]);

    expect(await wp(SITE, ['post', 'list', '--title=Pressluft backup marker', '--format=count'])).toBe('1');
    expect(await wp(SITE, ['option', 'get', 'pressluft_marker'])).toBe('before-the-damage');
    expect(existsSync(upload(SITE))).toBe(true);
    const served = await front(DOMAIN, '/wp-content/uploads/marker.txt');
    expect(served.status).toBe(200);
  });

  it('a delete takes a backup first; the deleted site comes back from it under a new name and domain', async () => {
    const uid = String((await stack.site(SITE))?.metadata.uid);
    expect((await stack.call(`${V1}/sites/${SITE}`, { method: 'DELETE' })).status).toBe(202);
    await stack.waitSiteGone(SITE, 180_000);
    const backups = (await stack.call<{ items: ApiObject[] }>(`${V1}/backups`)).body.items;
    const preDelete = backups.find((b) => (b.spec as { reason?: string }).reason === 'pre-delete' && b.metadata.labels?.['pressluft.io/site-uid'] === uid);
    expect(preDelete?.status.phase, JSON.stringify(backups.map((b) => [b.metadata.name, b.spec, b.status.phase]))).toBe('SUCCEEDED');

    await create({ kind: 'Restore', metadata: { name: 'bkp-undelete' }, spec: { backup: preDelete!.metadata.name, site: COPY, domains: [COPY_DOMAIN] } });
    const restore = await timed('restoreDeleted', () => runWhere('restores', 'bkp-undelete', ['SUCCEEDED', 'FAILED'], 240_000));
    expect(restore.status, JSON.stringify(restore.status)).toMatchObject({ phase: 'SUCCEEDED', site: COPY, createdSite: true });
    await stack.waitSiteReady(COPY, 60_000);
    expect(await wp(COPY, ['post', 'list', '--title=Pressluft backup marker', '--format=count'])).toBe('1');
    expect(await wp(COPY, ['option', 'get', 'siteurl'])).toBe(`http://${COPY_DOMAIN}`);
    const page = await front(COPY_DOMAIN);
    expect(page.status).toBe(200);
    expect(String(page.body)).not.toContain(DOMAIN);
    const conditions = (await stack.site(COPY))?.status.conditions as Condition[] | undefined;
    expect(conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('bad input changes nothing: a Backup of no site and a Restore of no backup are 422 naming the field', async () => {
    const noSite = await stack.call(`${V1}/backups`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Backup', metadata: { name: 'nothing' }, spec: { site: 'no-such-site' } } });
    expect(noSite.status).toBe(422);
    expect(noSite.text).toContain('spec.site');
    const noBackup = await stack.call(`${V1}/restores`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Restore', metadata: { name: 'nothing' }, spec: { backup: 'no-such-backup' } } });
    expect(noBackup.status).toBe(422);
    expect(noBackup.text).toContain('spec.backup');
  });
});
