// The WP-CLI commands the agent runs for a site that the other specs do not cover, on the real
// stack with the stand-in (tools/wp-cli/wp) as the site user in its jail: WP-Cron run by the node
// (host.runCron) instead of page views, and search-replace on a real database.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execJailed, siteJail } from './jail.js';
import { sitePaths } from './naming.js';
import { SiteHost } from './site-host.js';
import { defaultTemplatesDir } from './template.js';
import { requireUser } from './users.js';
import { wpCliEnv } from './wordpress.js';
import { hostHarness, siteRequest } from '../../test/host-harness.js';
import { hostileSite, removeSites } from '../../test/hostile-sites.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const SITE = hostileSite(`wpcli-${suffix}`);

describe('WP-CLI for a site: WP-Cron by the node, search-replace', () => {
  const harness = hostHarness(services, `pressluft-wpcli-${suffix}`);
  const host = new SiteHost(harness.settings, createLogger({ name: 'wp-cli-test', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const paths = sitePaths(harness.settings, SITE.name, SITE.id);
  const ran = join(paths.tmp, 'cron-ran.json');
  /** Written when WordPress is about to request wp-cron.php itself (spawn_cron's cron_request filter). */
  const spawned = join(paths.tmp, 'cron-spawned');
  /** Written by every WordPress load through PHP-FPM (a page view that reached PHP, not the page cache). */
  const viewed = join(paths.tmp, 'page-viewed');

  /** The stand-in as the agent runs it: the site user, its jail, its environment. */
  const wp = async (args: string[]) => {
    const jail = await siteJail(harness.settings, defaultTemplatesDir(), paths, { cgroupDirs: [], cwd: paths.tmp, pidNamespace: true });
    return execJailed(jail, await requireUser(`site_${SITE.id}`), [...harness.settings.wpCli, ...args, `--path=${paths.current}`], { env: wpCliEnv(defaultTemplatesDir(), paths), timeoutMs: 60_000 });
  };

  beforeAll(async () => {
    await host.provision(SITE, { progress: () => Promise.resolve(), log: () => Promise.resolve() });
    // The site's code: an event planted on every load of WordPress (a page view too), its hook
    // writing who ran it and whether WordPress knew it was cron.
    const muPlugins = join(paths.current, 'wp-content', 'mu-plugins');
    mkdirSync(muPlugins, { recursive: true });
    writeFileSync(
      join(muPlugins, 'cron-probe.php'),
      `<?php
add_action('pressluft_probe_event', function ($tag) {
  file_put_contents(${JSON.stringify(ran)}, json_encode(['uid' => posix_geteuid(), 'tag' => $tag, 'doingCron' => wp_doing_cron()]));
});
add_filter('cron_request', function ($request) {
  file_put_contents(${JSON.stringify(spawned)}, 'x');
  return $request;
});
if (PHP_SAPI !== 'cli') {
  file_put_contents(${JSON.stringify(viewed)}, 'x');
  // The lock of the last spawn (provision's first page view) would hide whether this one spawns.
  delete_transient('doing_cron');
}
if (!wp_next_scheduled('pressluft_probe_event', ['planted'])) wp_schedule_single_event(time() - 1, 'pressluft_probe_event', ['planted']);
`,
    );
  }, 120_000);

  afterAll(() => removeSites(host, harness, [SITE]), 120_000);

  it('a page view plants the event but never runs it (DISABLE_WP_CRON); the node’s run does, as the site user', async () => {
    expect(readFileSync(paths.wpConfig, 'utf8')).toContain("define( 'DISABLE_WP_CRON', true );");
    // wp-login.php: never from the page cache, so WordPress loads (init, wp_loaded: where WP-Cron would start).
    expect((await siteRequest(services, SITE.domains[0] ?? '', '/wp-login.php')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(existsSync(viewed)).toBe(true);
    expect(existsSync(ran)).toBe(false);
    expect(existsSync(spawned)).toBe(false);

    await host.runCron(SITE);
    const owner = await requireUser(`site_${SITE.id}`);
    expect(JSON.parse(readFileSync(ran, 'utf8'))).toEqual({ uid: owner.uid, tag: 'planted', doingCron: true });
  });

  it('the stand-in runs exactly the due events and says so as WP-CLI does', async () => {
    const result = await wp(['cron', 'event', 'run', '--due-now']);
    expect(result.code).toBe(0);
    // The probe's event was planted again by this very load and is due: it runs, with core's due ones.
    expect(result.stdout).toMatch(/^Executed the cron event 'pressluft_probe_event' in \d+(\.\d+)?s\.$/m);
    expect(result.stdout).toMatch(/^Success: Executed a total of \d+ cron events?\.\n$/m);
  });

  it('search-replace: serialized options rewritten with their lengths, plain columns in SQL, guid and other domains left alone', async () => {
    const stored = { home: 'http://old.example.test', menu: [{ url: 'https://old.example.test/shop', title: 'Über ✓' }], other: 'https://elsewhere.test/' };
    expect((await wp(['option', 'update', 'probe_settings', JSON.stringify(stored), '--format=json'])).stdout).toBe("Success: Updated 'probe_settings' option.\n");
    expect((await wp(['option', 'update', 'probe_settings', JSON.stringify(stored), '--format=json'])).stdout).toBe("Success: Value passed for 'probe_settings' option is unchanged.\n");
    expect((await wp(['option', 'update', 'probe_plain', 'see http://old.example.test/a'])).code).toBe(0);
    expect((await wp(['post', 'create', '--post_title=Moved from //old.example.test', '--post_status=publish'])).code).toBe(0);

    const result = await wp(['search-replace', '//old.example.test', '//new-site.example.test', '--all-tables-with-prefix', '--skip-columns=guid', '--skip-plugins', '--skip-themes']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('Table\tColumn\tReplacements\tType');
    expect(lines).toContain('wp_options\toption_value\t2\tPHP');
    expect(lines).toContain('wp_posts\tpost_title\t1\tSQL');
    expect(lines.some((line) => line.startsWith('wp_posts\tguid\t'))).toBe(false);
    expect(lines.some((line) => line.startsWith('wp_users\tuser_pass\t'))).toBe(false);
    expect(lines[lines.length - 1]).toBe('Success: Made 3 replacements.');

    const after = await wp(['option', 'get', 'probe_settings', '--format=json']);
    expect(JSON.parse(after.stdout)).toEqual({ home: 'http://new-site.example.test', menu: [{ url: 'https://new-site.example.test/shop', title: 'Über ✓' }], other: 'https://elsewhere.test/' });
    expect((await wp(['option', 'get', 'probe_plain'])).stdout).toBe('see http://new-site.example.test/a\n');
    // Nothing left to do: a second run changes nothing.
    expect((await wp(['search-replace', '//old.example.test', '//new-site.example.test', '--all-tables-with-prefix', '--skip-columns=guid'])).stdout).toMatch(/\nSuccess: Made 0 replacements\.\n$/);
  });
});
