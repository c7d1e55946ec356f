import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until, V1, ControlPlaneProcesses, type ApiObject, NodeStack, SiteShell } from '@pressluft/e2e-harness';
import { httpRequest, run, type HttpResult } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { siteShortId } from '../engine/site-config.js';

/*
 * Issue 19, end to end on real parts: a production site with content (a post, an upload, a
 * serialized option holding its URL) and code from git is cloned to staging through the backup
 * store; content goes down (ContentSync), code goes up (Promotion, health-gated); every forbidden
 * direction is refused and changes nothing.
 */

const NODE = 'e1';
const PROD = 'envprod';
const PROD_DOMAIN = 'envprod.example.test';
const STAGING = 'envstg';
const STAGING_DOMAIN = 'envstg.example.test';
const WORDPRESS = { version: '6.1', title: 'Environments', adminUser: 'admin', adminEmail: 'ops@example.test' };

interface SiteView extends ApiObject {
  status: ApiObject['status'] & { phase?: string; currentRelease?: string; currentCommit?: string; deployKey?: { publicKey: string; fingerprint: string }; observedGeneration?: number; conditions?: { type: string; status: string; reason?: string }[] };
}

describe('environments: clone, content down, code up (end to end)', () => {
  const services = inject('services');
  let processes: ControlPlaneProcesses;
  let stack: NodeStack;
  let shell: SiteShell;
  let repo: string;
  const commits: Record<string, string> = {};
  const figures: Record<string, number> = {};

  const front = (domain: string, path = '/') => httpRequest(`http://127.0.0.1:${stack.sitesPort}${path}`, { host: domain, timeoutMs: 5000 }).catch((error: unknown): HttpResult => ({ status: 0, body: String(error), headers: {} }));
  const get = async (plural: string, name: string) => {
    const response = await stack.call<SiteView>(`${V1}/${plural}/${name}`);
    return response.status === 200 ? response.body : undefined;
  };
  const runWhere = (kind: string, name: string, phases: readonly string[], timeoutMs = 180_000) =>
    until(`${kind} ${name} in ${phases.join('/')}`, async () => {
      const object = await get(kind, name);
      return object && phases.includes(String(object.status.phase)) ? object : undefined;
    }, timeoutMs, async () => `${JSON.stringify((await stack.call(`${V1}/${kind}/${name}`)).body)}\n${stack.explain()}`);
  const settled = (name: string, generation: number, timeoutMs = 180_000) =>
    until(`${name} settled at generation ${generation}`, async () => {
      const s = await get('sites', name);
      return s && (s.status.observedGeneration ?? 0) >= generation && (s.status.phase === 'ACTIVE' || s.status.phase === 'FAILED') && s.status.conditions?.find((c) => c.type === 'Reconciling')?.status !== 'True' ? s : undefined;
    }, timeoutMs, () => stack.explain());
  const post = (plural: string, body: Record<string, unknown>) => stack.call(`${V1}/${plural}`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', ...body } });
  const create = async (plural: string, body: Record<string, unknown>) => {
    const response = await post(plural, body);
    expect(response.status, response.text).toBe(201);
    return response.body;
  };
  const patchSite = async (name: string, spec: Record<string, unknown>) => {
    const response = await stack.call(`${V1}/sites/${name}`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec } });
    expect(response.status, response.text).toBe(200);
    return Number(response.body.metadata.generation);
  };
  const wp = (site: string, args: readonly string[]) => shell.wp(site, args);
  const database = async (site: string) => `site_${siteShortId(String((await get('sites', site))?.metadata.uid))}`;
  const sql = async (text: string) => (await run(['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`, '--batch', '--skip-column-names', '--raw'], { input: text })).trim();
  /** Every table of the site's database, row by row, without the dump's date: equal dumps, equal content. */
  const dump = async (site: string) => run(['/usr/bin/mariadb-dump', `--defaults-file=${services.mariadb.defaultsFile}`, '--skip-dump-date', '--skip-extended-insert', '--order-by-primary', await database(site)]);
  const writeUpload = (site: string, file: string, text: string) => shell.writeUpload(site, file, text);
  const git = (...args: string[]) => run(['/usr/bin/git', '-c', 'user.email=ci@example.test', '-c', 'user.name=ci', '-C', repo, ...args]);
  /** A commit whose mu-plugin sends X-Pressluft-Commit: <label>; `breakOn`: a domain it answers 500 on. */
  const commit = async (label: string, breakOn?: string) => {
    const guard = breakOn ? `if (($_SERVER['HTTP_HOST'] ?? '') === '${breakOn}') { http_response_code(500); exit; }\n` : '';
    writeFileSync(join(repo, 'mu-plugins', 'marker.php'), `<?php\n${guard}add_action('send_headers', function () { header('X-Pressluft-Commit: ${label}'); });\n`);
    await git('add', '-A');
    await git('commit', '-q', '-m', label);
    await git('tag', label);
    commits[label] = (await git('rev-parse', 'HEAD')).trim();
  };
  const timed = async <T>(name: string, task: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await task();
    figures[name] = Math.round(performance.now() - started);
    return result;
  };
  const counts = async () => {
    const count = async (plural: string) => (await stack.call<{ items: unknown[] }>(`${V1}/${plural}`)).body.items.length;
    const refusedEvents = (await stack.call<{ items: { involvedObject?: { name?: string } }[] }>(`${V1}/events`)).body.items.filter((e) => ['up-content', 'into-prod', 'down-code'].includes(e.involvedObject?.name ?? ''));
    return { contentsyncs: await count('contentsyncs'), promotions: await count('promotions'), commands: await count('commands'), backups: await count('backups'), refusedEvents: refusedEvents.length };
  };

  beforeAll(async () => {
    processes = await ControlPlaneProcesses.build();
    stack = await NodeStack.start(processes, services, 'environments');
    // No WP-Cron runs in this spec: the production database must stay byte for byte what it was.
    shell = new SiteShell((await stack.startAgent(NODE, { env: { PRESSLUFT_AGENT_CRON_MS: '0' } })).sitesRoot);
    await stack.waitNodeReady(NODE, 60_000);
    repo = join(stack.root, 'env-code');
    await run(['/usr/bin/git', 'init', '-q', '-b', 'main', repo]);
    mkdirSync(join(repo, 'mu-plugins'));
    await commit('v1');
  }, 180_000);

  afterAll(async () => {
    for (const site of [STAGING, PROD]) {
      if ((await stack?.call(`${V1}/sites/${site}`))?.status === 200) {
        await patchSite(site, { backup: { skipPreDeleteBackup: true } }).catch(() => undefined);
        await stack.call(`${V1}/sites/${site}`, { method: 'DELETE' });
        await stack.waitSiteGone(site, 120_000).catch(() => undefined);
      }
    }
    await stack?.stop();
    await processes?.stop();
    console.log(`environments figures (ms): ${JSON.stringify(figures)}`);
  }, 300_000);

  it('clone to staging: its own domain answers, every URL (serialized too) names it, production is unchanged', async () => {
    const code = { git: { url: `file://${repo}`, ref: 'v1' } };
    await create('sites', { kind: 'Site', metadata: { name: PROD }, spec: { domains: [PROD_DOMAIN, `www.${PROD_DOMAIN}`], nodeName: NODE, wordpress: WORDPRESS, code } });
    await stack.waitSiteReady(PROD, 180_000);
    const prod = (await get('sites', PROD))!;
    expect(prod.status.currentCommit).toBe(commits['v1']);
    // The deploy key was made on the node; only its public half and fingerprint reach the API.
    expect(prod.status.deployKey).toEqual({ publicKey: expect.stringMatching(/^ssh-ed25519 [A-Za-z0-9+/]+=* pressluft-site-envprod$/), fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/) });
    await wp(PROD, ['post', 'create', '--post_title=Production marker', '--post_status=publish']);
    await wp(PROD, ['option', 'update', 'env_links', JSON.stringify({ home: `http://${PROD_DOMAIN}/`, nested: { shop: `https://${PROD_DOMAIN}/shop`, www: `https://www.${PROD_DOMAIN}/` } }), '--format=json']);
    writeUpload(PROD, 'marker.txt', 'uploaded on production\n');
    const before = await dump(PROD);

    await create('sites', { kind: 'Site', metadata: { name: STAGING }, spec: { environment: 'staging', domains: [STAGING_DOMAIN, `www.${STAGING_DOMAIN}`], nodeName: NODE, wordpress: WORDPRESS, code, source: { clone: { site: PROD } } } });
    const phases = new Set<string>();
    const staging = await timed('clone', () =>
      until('staging cloned', async () => {
        const s = await get('sites', STAGING);
        if (s?.status.phase) phases.add(s.status.phase);
        return s?.status.phase === 'ACTIVE' || s?.status.phase === 'FAILED' ? s : undefined;
      }, 300_000, () => stack.explain()),
    );
    expect(staging.status.phase, JSON.stringify(staging.status)).toBe('ACTIVE');
    expect([...phases]).toContain('CLONING');
    expect(staging.status.currentCommit).toBe(commits['v1']);
    await stack.waitSiteReady(STAGING, 60_000);

    const page = await front(STAGING_DOMAIN);
    expect(page.status).toBe(200);
    expect(String(page.body)).not.toContain(PROD_DOMAIN);
    expect(page.headers['x-robots-tag']).toMatch(/noindex/);
    expect(page.headers['x-pressluft-commit']).toBe('v1');
    expect(await wp(STAGING, ['post', 'list', '--title=Production marker', '--format=count'])).toBe('1');
    expect(await wp(STAGING, ['option', 'get', 'siteurl'])).toBe(`http://${STAGING_DOMAIN}`);
    expect(await wp(STAGING, ['option', 'get', 'blog_public'])).toBe('0');
    expect(JSON.parse(await wp(STAGING, ['option', 'get', 'env_links', '--format=json']))).toEqual({ home: `http://${STAGING_DOMAIN}/`, nested: { shop: `https://${STAGING_DOMAIN}/shop`, www: `https://www.${STAGING_DOMAIN}/` } });
    // The stored value is PHP-serialized with string lengths that match the new domain.
    const raw = await sql(`SELECT option_value FROM ${await database(STAGING)}.wp_options WHERE option_name = 'env_links'`);
    expect(raw).toContain(`s:${`http://${STAGING_DOMAIN}/`.length}:"http://${STAGING_DOMAIN}/"`);
    expect(raw).toContain(`s:${`https://${STAGING_DOMAIN}/shop`.length}:"https://${STAGING_DOMAIN}/shop"`);
    expect(raw).toContain(`s:${`https://www.${STAGING_DOMAIN}/`.length}:"https://www.${STAGING_DOMAIN}/"`);
    expect(raw).not.toContain(PROD_DOMAIN);
    expect((await front(STAGING_DOMAIN, '/wp-content/uploads/marker.txt')).status).toBe(200);
    // A clone's source is read, never written.
    expect(await dump(PROD)).toBe(before);
    expect((await front(PROD_DOMAIN)).headers['x-robots-tag']).toBeUndefined();
  }, 600_000);

  it('content down: production content reaches staging after a pre-sync backup of staging; production is untouched', async () => {
    await wp(PROD, ['post', 'create', '--post_title=Fresh on production', '--post_status=publish']);
    writeUpload(PROD, 'fresh.txt', 'fresh on production\n');
    await wp(STAGING, ['post', 'create', '--post_title=Only on staging', '--post_status=publish']);
    const before = await dump(PROD);

    await create('contentsyncs', { kind: 'ContentSync', metadata: { name: 'down-1' }, spec: { from: PROD, to: STAGING } });
    const sync = await timed('contentSync', () => runWhere('contentsyncs', 'down-1', ['SUCCEEDED', 'FAILED'], 300_000));
    expect(sync.status, JSON.stringify(sync.status)).toMatchObject({ phase: 'SUCCEEDED', moved: { parts: ['database', 'uploads'] } });
    const preSync = String((sync.status as { preSyncBackup?: string }).preSyncBackup);
    expect((await stack.call(`${V1}/backups/${preSync}`)).body).toMatchObject({ spec: { site: STAGING }, status: { phase: 'SUCCEEDED' } });

    await stack.waitSiteReady(STAGING, 60_000);
    expect(await wp(STAGING, ['post', 'list', '--title=Fresh on production', '--format=count'])).toBe('1');
    expect(await wp(STAGING, ['post', 'list', '--title=Only on staging', '--format=count'])).toBe('0');
    expect(await wp(STAGING, ['option', 'get', 'siteurl'])).toBe(`http://${STAGING_DOMAIN}`);
    expect(await wp(STAGING, ['option', 'get', 'blog_public'])).toBe('0');
    expect((await front(STAGING_DOMAIN, '/wp-content/uploads/fresh.txt')).status).toBe(200);
    expect((await front(STAGING_DOMAIN)).headers['x-pressluft-commit']).toBe('v1');
    expect(await dump(PROD)).toBe(before);
  }, 600_000);

  it('code up: staging deploys a new commit; the promotion puts exactly that commit on production, its content unchanged', async () => {
    await commit('v2');
    const staged = await settled(STAGING, await patchSite(STAGING, { code: { git: { url: `file://${repo}`, ref: 'v2' } } }));
    expect(staged.status.phase).toBe('ACTIVE');
    expect(staged.status.currentCommit).toBe(commits['v2']);
    await stack.waitSiteReady(STAGING, 60_000);
    const contentBefore = await wp(PROD, ['post', 'list', '--format=ids']);

    await create('promotions', { kind: 'Promotion', metadata: { name: 'up-1' }, spec: { from: STAGING, to: PROD } });
    const promotion = await timed('promotion', () => runWhere('promotions', 'up-1', ['SUCCEEDED', 'FAILED'], 300_000));
    expect(promotion.status, JSON.stringify(promotion.status)).toMatchObject({ phase: 'SUCCEEDED', commit: commits['v2'] });
    const pre = String((promotion.status as { preBackup?: string }).preBackup);
    expect((await stack.call(`${V1}/backups/${pre}`)).body).toMatchObject({ spec: { site: PROD, reason: 'pre-promotion' }, status: { phase: 'SUCCEEDED' } });
    const prod = (await get('sites', PROD))!;
    expect(prod.status.currentCommit).toBe(commits['v2']);
    expect((await front(PROD_DOMAIN)).headers['x-pressluft-commit']).toBe('v2');
    expect(await wp(PROD, ['post', 'list', '--format=ids'])).toBe(contentBefore);
    expect(await wp(PROD, ['option', 'get', 'siteurl'])).toBe(`http://${PROD_DOMAIN}`);
  }, 600_000);

  it('every forbidden direction is refused with 422 naming the rule and changes nothing', async () => {
    const before = await counts();
    const refusals = [
      await post('contentsyncs', { kind: 'ContentSync', metadata: { name: 'up-content' }, spec: { from: STAGING, to: PROD } }),
      await post('contentsyncs', { kind: 'ContentSync', metadata: { name: 'into-prod' }, spec: { from: PROD, to: PROD } }),
      await post('promotions', { kind: 'Promotion', metadata: { name: 'down-code' }, spec: { from: PROD, to: STAGING } }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([422, 422, 422]);
    expect(refusals[0]?.text).toMatch(/NoContentIntoProduction/);
    expect(refusals[2]?.text).toMatch(/NoPromotionToStaging/);
    expect(await counts()).toEqual(before);
  });

  it('a promotion whose health check fails leaves production on its old release', async () => {
    await commit('v3', PROD_DOMAIN);
    const staged = await settled(STAGING, await patchSite(STAGING, { code: { git: { url: `file://${repo}`, ref: 'v3' } } }));
    expect(staged.status.currentCommit).toBe(commits['v3']);
    await stack.waitSiteReady(STAGING, 60_000);
    const before = (await get('sites', PROD))!;

    await create('promotions', { kind: 'Promotion', metadata: { name: 'up-2' }, spec: { from: STAGING, to: PROD } });
    const promotion = await runWhere('promotions', 'up-2', ['SUCCEEDED', 'FAILED'], 300_000);
    expect(promotion.status.phase, JSON.stringify(promotion.status)).toBe('FAILED');
    const prod = (await get('sites', PROD))!;
    expect(prod.status.currentRelease).toBe(before.status.currentRelease);
    expect(prod.status.currentCommit).toBe(commits['v2']);
    const page = await front(PROD_DOMAIN);
    expect(page.status).toBe(200);
    expect(page.headers['x-pressluft-commit']).toBe('v2');
  }, 600_000);
});
