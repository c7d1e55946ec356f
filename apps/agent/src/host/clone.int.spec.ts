import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostRestoreRequest, ResticStore } from '@pressluft/agent-runtime';
import { createLogger } from '@pressluft/platform';
import type { BackupResult, SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execOk } from './exec.js';
import { clientArgv } from './mariadb.js';
import { sitePaths } from './naming.js';
import { hostHarness, QUIET, RecordingReporter, siteRequest } from '../../test/host-harness.js';
import { hostileSite, removeSites } from '../../test/hostile-sites.js';
import { SiteHost } from './site-host.js';

const services = inject('services');
const admin = ['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`];
const suffix = randomBytes(3).toString('hex');
const SOURCE = hostileSite(`cs-${suffix}`, { environment: 'production' });
const CLONE = hostileSite(`cc-${suffix}`, { environment: 'staging' });
const sourceDomain = SOURCE.domains[0] ?? '';
const cloneDomain = CLONE.domains[0] ?? '';
const password = randomBytes(18).toString('hex');

const sql = (text: string) => execOk(clientArgv(admin), { input: text, timeoutMs: 300_000 });
const db = (s: SiteConfig) => `site_${s.id}`;
const optionOf = async (s: SiteConfig, name: string) => (await sql(`SELECT option_value FROM ${db(s)}.wp_options WHERE option_name = '${name}';\n`)).trim();
const postTitle = async (s: SiteConfig) => (await sql(`SELECT post_title FROM ${db(s)}.wp_posts WHERE post_name = 'marker-${suffix}';\n`)).trim();
/** A PHP-serialized option naming the site's URL, as plugins store them (lengths in bytes). */
const serializedLinks = (domain: string) => {
  const url = `http://${domain}/shop/`;
  return `a:2:{s:4:"home";s:${Buffer.byteLength(url)}:"${url}";s:4:"note";s:5:"plain";}`;
};

describe('cloning a site from its backup, partial restores and staging sites, on the real stack', () => {
  const harness = hostHarness(services, `pressluft-cl-${suffix}`, { node: 'node-cl' });
  const { root, settings } = harness;
  const host = new SiteHost(settings, createLogger({ name: 'clone-test', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const source = sitePaths(settings, SOURCE.name, SOURCE.id);
  const clone = sitePaths(settings, CLONE.name, CLONE.id);
  const store: ResticStore = { repository: join(root, 'repo'), password, sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' };
  let backup: BackupResult;
  const request = (parts: HostRestoreRequest['parts'] = []): HostRestoreRequest => ({ site: CLONE, backup: `${SOURCE.name}-one`, snapshots: backup.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: SOURCE.domains, store, parts });
  let sourceState: { releases: string[]; current: string; links: string };

  beforeAll(async () => {
    await host.provision(SOURCE, QUIET);
    await sql(
      [
        `INSERT INTO ${db(SOURCE)}.wp_posts (post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_type)`,
        `VALUES (1, NOW(), UTC_TIMESTAMP(), 'Body ${suffix}', 'Marker ${suffix}', '', 'publish', 'marker-${suffix}', '', '', NOW(), UTC_TIMESTAMP(), '', 'post');`,
        `INSERT INTO ${db(SOURCE)}.wp_options (option_name, option_value, autoload) VALUES ('pressluft_links', '${serializedLinks(sourceDomain)}', 'no');`,
        '',
      ].join('\n'),
    );
    const uid = statSync(source.root).uid;
    mkdirSync(join(source.uploads, '2026'));
    writeFileSync(join(source.uploads, '2026', 'marker.txt'), `upload ${suffix}\n`);
    for (const path of [join(source.uploads, '2026'), join(source.uploads, '2026', 'marker.txt')]) chownSync(path, uid, uid);
    backup = await host.backup({ name: SOURCE.name, id: SOURCE.id, backup: `${SOURCE.name}-one`, store }, QUIET);
    sourceState = { releases: readdirSync(source.releases).sort(), current: readlinkSync(source.current), links: await optionOf(SOURCE, 'pressluft_links') };
  }, 240_000);

  afterAll(() => removeSites(host, harness, [CLONE, SOURCE]), 120_000);

  it('clones the backup into a new staging site: served on its own domain only once restored, URLs (serialized ones too) rewritten, the source untouched', async () => {
    const reporter = new RecordingReporter();
    const result = await host.clone(request(), reporter);
    expect(result.url).toBe(`http://${cloneDomain}/`);
    expect(readlinkSync(clone.current)).toBe(`releases/${result.currentRelease}`);
    // The fresh WordPress was never served: no nginx step before the restore's switch, one verify at the end.
    const steps = [...new Set(reporter.steps)];
    expect(steps).not.toContain('nginx');
    expect(steps.indexOf('wordpress')).toBeLessThan(steps.indexOf('restore'));
    expect(steps.slice(-2)).toEqual(['prune', 'verify']);
    const front = await siteRequest(services, cloneDomain, '/');
    expect(front.status).toBe(200);
    expect(front.body).toContain(`Marker ${suffix}`);
    expect(front.body).not.toContain(sourceDomain);
    expect(await optionOf(CLONE, 'home')).toBe(`http://${cloneDomain}`);
    expect(await optionOf(CLONE, 'pressluft_links')).toBe(serializedLinks(cloneDomain));
    expect(readFileSync(join(clone.uploads, '2026', 'marker.txt'), 'utf8')).toBe(`upload ${suffix}\n`);
    // The source: its database, releases and current as they were.
    expect(await optionOf(SOURCE, 'pressluft_links')).toBe(sourceState.links);
    expect(await optionOf(SOURCE, 'home')).toBe(`http://${sourceDomain}`);
    expect(readdirSync(source.releases).sort()).toEqual(sourceState.releases);
    expect(readlinkSync(source.current)).toBe(sourceState.current);
    expect((await siteRequest(services, sourceDomain, '/')).status).toBe(200);
  }, 300_000);

  it('a staging site: its release has the staging plugin, its answers say noindex, its database says not public; the production source has none of it', async () => {
    expect(existsSync(join(clone.current, 'wp-content', 'mu-plugins', 'pressluft-staging.php'))).toBe(true);
    expect(existsSync(join(clone.current, 'wp-content', 'mu-plugins', 'pressluft-cache.php'))).toBe(true);
    expect(existsSync(join(source.current, 'wp-content', 'mu-plugins', 'pressluft-staging.php'))).toBe(false);
    for (const path of ['/', '/wp-content/uploads/2026/marker.txt', '/wp-config.php', '/no-such-page/']) {
      expect((await siteRequest(services, cloneDomain, path)).headers['x-robots-tag']).toBe('noindex, nofollow');
      expect((await siteRequest(services, sourceDomain, path)).headers['x-robots-tag']).toBeUndefined();
    }
    expect(await optionOf(CLONE, 'blog_public')).toBe('0');
    expect(await optionOf(SOURCE, 'blog_public')).toBe('1');
  }, 120_000);

  it('the staging plugin drops every mail, logging only how many recipients and domains', async () => {
    const probe = join(clone.current, `mail-probe-${suffix}.php`);
    writeFileSync(probe, "<?php\nrequire __DIR__ . '/wp-load.php';\nvar_export( wp_mail( 'ann@one.example, bob@two.example', 'Subject', 'Body' ) );\n", { mode: 0o644 });
    try {
      const answer = await siteRequest(services, cloneDomain, `/mail-probe-${suffix}.php`);
      expect(answer.status).toBe(200);
      expect(answer.body.trim()).toBe('true');
      const log = readFileSync(join(clone.logs, 'php-error.log'), 'utf8');
      expect(log).toContain('pressluft staging: a mail to 2 recipient(s) at 2 domain(s) dropped');
      expect(log).not.toContain('one.example');
    } finally {
      unlinkSync(probe);
    }
  }, 120_000);

  it('a redelivered CloneSite runs again safely: the clone serves the backup again', async () => {
    await sql(`UPDATE ${db(CLONE)}.wp_posts SET post_title = 'changed' WHERE post_name = 'marker-${suffix}';\n`);
    const result = await host.clone(request(), QUIET);
    expect(readlinkSync(clone.current)).toBe(`releases/${result.currentRelease}`);
    expect(await postTitle(CLONE)).toBe(`Marker ${suffix}`);
    expect((await siteRequest(services, cloneDomain, '/')).status).toBe(200);
    expect(await optionOf(SOURCE, 'pressluft_links')).toBe(sourceState.links);
  }, 300_000);

  it('a database-only restore brings the database back (URLs rewritten, not public) and leaves the code and the uploads as they were', async () => {
    const live = readlinkSync(clone.current);
    writeFileSync(join(clone.current, 'wp-content', `code-${suffix}.txt`), 'live code\n', { mode: 0o644 });
    writeFileSync(join(clone.uploads, `new-${suffix}.txt`), 'new upload\n');
    await sql(`UPDATE ${db(CLONE)}.wp_posts SET post_title = 'changed' WHERE post_name = 'marker-${suffix}';\nUPDATE ${db(CLONE)}.wp_options SET option_value = '1' WHERE option_name = 'blog_public';\n`);
    const uploadsBefore = readdirSync(clone.uploads).sort();
    const result = await host.restore(request(['database']), QUIET);
    expect(`releases/${result.currentRelease}`).not.toBe(live);
    expect(await postTitle(CLONE)).toBe(`Marker ${suffix}`);
    expect(await optionOf(CLONE, 'pressluft_links')).toBe(serializedLinks(cloneDomain));
    expect(await optionOf(CLONE, 'blog_public')).toBe('0');
    // The code: the live release's (its extra file too), with the node's plugins.
    expect(readFileSync(join(clone.current, 'wp-content', `code-${suffix}.txt`), 'utf8')).toBe('live code\n');
    expect(existsSync(join(clone.current, 'wp-content', 'mu-plugins', 'pressluft-staging.php'))).toBe(true);
    expect(readlinkSync(join(clone.current, 'wp-config.php'))).toBe('../../shared/wp-config.php');
    expect(readdirSync(clone.uploads).sort()).toEqual(uploadsBefore);
    expect((await siteRequest(services, cloneDomain, '/')).status).toBe(200);
  }, 300_000);

  it('an uploads-only restore brings the uploads back and leaves the database and the release as they were', async () => {
    const live = readlinkSync(clone.current);
    const releases = readdirSync(clone.releases).sort();
    await sql(`UPDATE ${db(CLONE)}.wp_posts SET post_title = 'kept' WHERE post_name = 'marker-${suffix}';\n`);
    unlinkSync(join(clone.uploads, '2026', 'marker.txt'));
    const result = await host.restore(request(['uploads']), QUIET);
    expect(`releases/${result.currentRelease}`).toBe(live);
    expect(readlinkSync(clone.current)).toBe(live);
    expect(readdirSync(clone.releases).sort()).toEqual(releases);
    expect(readFileSync(join(clone.uploads, '2026', 'marker.txt'), 'utf8')).toBe(`upload ${suffix}\n`);
    expect(existsSync(join(clone.uploads, `new-${suffix}.txt`))).toBe(false);
    expect(await postTitle(CLONE)).toBe('kept');
    expect((await siteRequest(services, cloneDomain, '/wp-content/uploads/2026/marker.txt')).status).toBe(200);
    expect(readdirSync(clone.shared).sort()).toEqual(['uploads', 'wp-config.php']);
  }, 300_000);
});
