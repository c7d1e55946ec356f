import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseProcCgroup } from './cgroup.js';
import { exec, execOk } from './exec.js';
import { sitePaths } from './naming.js';
import { hostHarness, QUIET, RecordingReporter, siteLoad, siteRequest } from '../../test/host-harness.js';
import { SiteHost, StepError } from './site-host.js';

const services = inject('services');

/** GET through the harness nginx with a Host header. */
const http = (host: string, path = '/') => siteRequest(services, host, path);

/** GET / loops on a site until stop(): the answers that were not 200 (errors included) and when each was in flight. */
function load(host: string, clients = 4) {
  const traffic = siteLoad(services, host, clients);
  return {
    async stop() {
      const answers = await traffic.stop();
      const failures = answers.filter((answer) => answer.outcome !== '200').map((answer) => answer.outcome);
      const spans = answers.map((answer): [number, number] => [answer.started, answer.ended]);
      return { ok: answers.length - failures.length, failed: failures.length, failures, spans };
    },
  };
}

/** Requests that were in flight at some point between the start of the switch step and the end of the reload. */
function acrossSwitch(spans: ReadonlyArray<[number, number]>, reporter: RecordingReporter): number {
  const from = reporter.at['switch'] ?? Infinity;
  const to = reporter.at['switched'] ?? -Infinity;
  return spans.filter(([start, end]) => start <= to && end >= from).length;
}

const suffix = randomBytes(3).toString('hex');
const id = randomBytes(8).toString('hex').replace(/[^0-9a-z]/g, '').slice(0, 8).padEnd(8, '0');
const SITE: SiteConfig = {
  name: `rel-${suffix}`,
  id,
  environment: 'production',
  domains: [`rel-${suffix}.example.test`],
  php: { version: '8.2', memoryLimitMb: 192, maxChildren: 4, uploadMaxMb: 16 },
  wordpress: { version: '6.1', title: `Releases ${suffix}`, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
  resources: { cpuPercent: 100, memoryMib: 384 },
  keepReleases: 3,
};
const domain = SITE.domains[0] ?? '';

describe('releases: health-gated deploys, rollback and keep-N on the real stack', () => {
  const harness = hostHarness(services, `pressluft-rel-${suffix}`, { gitAllowLocal: true });
  const { root } = harness;
  // Composer through a probe that notes the cgroups it runs in.
  const composerProbe = join(__dirname, '..', '..', 'test', 'composer-probe.sh');
  const settings = { ...harness.settings, composer: [composerProbe] };
  const host = new SiteHost(settings, createLogger({ name: 'releases-test', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const paths = sitePaths(settings, SITE.name, SITE.id);
  const repo = join(root, 'repo');
  const timings: Record<string, number> = {};
  const loadCounts: Record<string, { ok: number; failed: number; inFlightDuringSwitch: number }> = {};
  const withGit = (ref: string, extra: Partial<SiteConfig> = {}): SiteConfig => ({ ...SITE, git: { url: repo, ref, knownHosts: '', username: '', token: false }, ...extra });
  const marker = async () => {
    const answer = await http(domain);
    return { status: answer.status, marker: answer.headers['x-pressluft-marker'] };
  };
  const greeting = async () => {
    const answer = await http(domain);
    return { status: answer.status, greeting: answer.headers['x-pressluft-greeting'] };
  };
  const current = () => readlinkSync(paths.current).replace(/^releases\//, '');
  let r0 = '';

  const git = (...args: string[]) =>
    execOk(['/usr/bin/git', '-C', repo, '-c', 'user.name=Test', '-c', 'user.email=test@example.test', ...args], {
      env: { PATH: '/usr/bin:/bin', HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
  const writeRepo = (rel: string, content: string) => {
    mkdirSync(dirname(join(repo, rel)), { recursive: true });
    writeFileSync(join(repo, rel), content);
  };

  beforeAll(async () => {
    // A site repository: wp-content/ with a mu-plugin whose header marks the release's code.
    mkdirSync(repo);
    await git('init', '--quiet', '-b', 'main');
    writeRepo('wp-content/mu-plugins/marker.php', "<?php\nheader('X-Pressluft-Marker: v1');\n");
    writeRepo('wp-content/mu-plugins/unchanged.php', '<?php\n// the same in every ref\n');
    writeRepo('README.md', 'site\n');
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'v1');
    await git('branch', 'v1');
    writeRepo('wp-content/mu-plugins/marker.php', "<?php\nheader('X-Pressluft-Marker: v2');\n");
    await git('commit', '--quiet', '-am', 'v2');
    await git('branch', 'v2');
    await git('checkout', '--quiet', '-b', 'broken');
    writeRepo('wp-content/mu-plugins/fail.php', '<?php\nhttp_response_code(500);\necho "broken";\nexit;\n');
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'broken');
    await git('checkout', '--quiet', 'main');
    // Composer: a path repository inside the repository (copied, not symlinked), packagist off,
    // and a mu-plugin that needs the autoloader: without vendor/ every page is a fatal error.
    await git('checkout', '--quiet', '-b', 'composer');
    const manifest = (requires: Record<string, string>) =>
      `${JSON.stringify(
        {
          name: 'pressluft-test/site',
          type: 'project',
          repositories: [{ 'packagist.org': false }, { type: 'path', url: 'packages/greeting', options: { symlink: false } }],
          require: requires,
        },
        null,
        2,
      )}\n`;
    writeRepo('wp-content/composer.json', manifest({ 'pressluft-test/greeting': '*' }));
    writeRepo(
      'wp-content/packages/greeting/composer.json',
      `${JSON.stringify({ name: 'pressluft-test/greeting', version: '1.0.0', autoload: { 'psr-4': { 'PressluftTest\\Greeting\\': 'src/' } } })}\n`,
    );
    writeRepo('wp-content/packages/greeting/src/Greeter.php', `<?php\nnamespace PressluftTest\\Greeting;\n\nfinal class Greeter\n{\n    public static function hello(): string\n    {\n        return 'hello from composer ${suffix}';\n    }\n}\n`);
    writeRepo('wp-content/mu-plugins/greeting.php', "<?php\nrequire __DIR__ . '/../vendor/autoload.php';\nheader('X-Pressluft-Greeting: ' . \\PressluftTest\\Greeting\\Greeter::hello());\n");
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'composer');
    await git('checkout', '--quiet', '-b', 'composer-missing');
    writeRepo('wp-content/composer.json', manifest({ 'pressluft-test/greeting': '*', 'pressluft-test/missing': '^9.0' }));
    await git('commit', '--quiet', '-am', 'requires a package nobody has');
    await git('checkout', '--quiet', 'main');

    const started = performance.now();
    await host.provision(SITE, new RecordingReporter());
    timings['provision'] = Math.round(performance.now() - started);
    r0 = current();
  }, 180_000);

  afterAll(async () => {
    await host.remove(SITE.name, SITE.id, QUIET).catch((e: unknown) => console.error(`cleanup of ${SITE.name} failed:`, e));
    await host.stopAll().catch(() => undefined);
    harness.cleanup();
    console.log(`releases timings (ms): ${JSON.stringify(timings)}`);
    console.log(`releases load (4 clients on loopback): ${JSON.stringify(loadCounts)}`);
  }, 120_000);

  let r1 = '';
  let r2 = '';

  it('deploys wp-content from a git ref: the new release serves, the old one stays on disk', async () => {
    expect((await marker()).marker).toBeUndefined();
    const reporter = new RecordingReporter();
    const started = performance.now();
    const result = await host.deploy(withGit('v1'), reporter);
    timings['deploy v1'] = Math.round(performance.now() - started);
    const step = (from: string, to: string) => Math.round((reporter.at[to] ?? 0) - (reporter.at[from] ?? 0));
    timings['deploy v1: fetch'] = step('fetch', 'release');
    timings['deploy v1: build release'] = step('release', 'dependencies');
    timings['deploy v1: dependencies (none)'] = step('dependencies', 'health');
    timings['deploy v1: health check'] = step('health', 'switch');
    timings['deploy v1: switch + reload'] = step('switch', 'switched');
    // the pool was really reloaded (USR2), same master
    expect(readFileSync(paths.fpmLog, 'utf8')).toMatch(/Reloading in progress/);
    expect(reporter.lines.some((l) => l.startsWith(`current -> releases/${result.currentRelease}; php-fpm (pid ${readFileSync(paths.fpmPid, 'utf8').trim()}) reloaded`))).toBe(true);
    r1 = result.currentRelease;
    expect(reporter.steps).toEqual(['validate', 'fetch', 'release', 'dependencies', 'health', 'switch', 'prune']);
    expect(reporter.lines).toContain(`release ${result.currentRelease}: no composer.json in wp-content, no dependencies to install`);
    expect(r1 > r0).toBe(true);
    expect(result.releases).toEqual([r1, r0]);
    expect(current()).toBe(r1);
    expect(await marker()).toEqual({ status: 200, marker: 'v1' });
    // code is root-owned (the site cannot change it); core is hard-linked; shared data is linked in
    const plugin = statSync(join(paths.releases, r1, 'wp-content', 'mu-plugins', 'marker.php'));
    expect(plugin.uid).toBe(0);
    expect(statSync(join(paths.releases, r1, 'wp-includes', 'version.php')).nlink).toBeGreaterThanOrEqual(3);
    expect(readlinkSync(join(paths.releases, r1, 'wp-config.php'))).toBe('../../shared/wp-config.php');
    expect(readlinkSync(join(paths.releases, r1, 'wp-content', 'uploads'))).toBe('../../../shared/uploads');
    expect(existsSync(join(paths.releases, r1, 'README.md'))).toBe(false);
    expect(existsSync(join(paths.releases, r1, 'wp-content', 'themes'))).toBe(true);
    expect(await host.releases(SITE.name)).toEqual({ current: r1, releases: [r1, r0] });
  });

  it('deploys a new ref under load with 0 failed requests; unchanged files are hard-linked from the previous release', async () => {
    const traffic = load(domain);
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const reporter = new RecordingReporter();
    const result = await host.deploy(withGit('v2'), reporter);
    timings['deploy v2 (under load)'] = Math.round(performance.now() - started);
    timings['deploy v2: switch + reload'] = Math.round((reporter.at['switched'] ?? 0) - (reporter.at['switch'] ?? 0));
    await new Promise((r) => setTimeout(r, 500));
    const counts = await traffic.stop();
    const during = acrossSwitch(counts.spans, reporter);
    loadCounts['deploy'] = { ok: counts.ok, failed: counts.failed, inFlightDuringSwitch: during };
    console.log(`deploy under load: ${counts.ok} ok, ${counts.failed} failed, ${during} in flight during switch+reload ${JSON.stringify(counts.failures.slice(0, 5))}`);
    expect(counts.failed).toBe(0);
    expect(counts.ok).toBeGreaterThan(0);
    expect(during).toBeGreaterThan(0);
    r2 = result.currentRelease;
    expect(result.releases).toEqual([r2, r1, r0]);
    expect(await marker()).toEqual({ status: 200, marker: 'v2' });
    const ino = (release: string, file: string) => statSync(join(paths.releases, release, 'wp-content', 'mu-plugins', file)).ino;
    expect(ino(r2, 'unchanged.php')).toBe(ino(r1, 'unchanged.php'));
    expect(ino(r2, 'marker.php')).not.toBe(ino(r1, 'marker.php'));
  });

  it('never switches to a release that answers 500: current stays, the site keeps answering 200', async () => {
    const reporter = new RecordingReporter();
    const error = await host.deploy(withGit('broken'), reporter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ step: 'health', reason: 'HealthCheckFailed' });
    expect((error as Error).message).toMatch(/HTTP 500/);
    console.log(`failed deploy: ${(error as Error).message}`);
    expect(reporter.steps).toEqual(['validate', 'fetch', 'release', 'dependencies', 'health']);
    expect(current()).toBe(r2);
    expect(await host.releases(SITE.name)).toEqual({ current: r2, releases: [r2, r1, r0] });
    expect(readdirSync(paths.releases).filter((e) => !e.startsWith('.'))).toEqual([r0, r1, r2]);
    expect(await marker()).toEqual({ status: 200, marker: 'v2' });
  });

  it('refuses a WordPress version the node does not have', async () => {
    const error = await host.deploy(withGit('v2', { wordpress: { ...SITE.wordpress, version: '6.4' } as SiteConfig['wordpress'] }), new RecordingReporter()).catch((e: unknown) => e);
    expect(error).toMatchObject({ step: 'release', reason: 'WordPressVersionUnavailable' });
    expect((error as Error).message).toMatch(/6\.4.*6\.1\.\d+/);
    expect(current()).toBe(r2);
  });

  it('refuses a git source it must not fetch, before anything is built', async () => {
    const error = await host.deploy({ ...SITE, git: { url: 'http://example.test/x.git', ref: 'main', knownHosts: '', username: '', token: false } }, new RecordingReporter()).catch((e: unknown) => e);
    expect(error).toMatchObject({ step: 'validate', reason: 'InvalidGitSource' });
    const missing = await host.deploy(withGit('no-such-branch'), new RecordingReporter()).catch((e: unknown) => e);
    expect(missing).toMatchObject({ step: 'fetch', reason: 'GitFetchFailed' });
    expect(current()).toBe(r2);
    expect((await host.releases(SITE.name)).releases).toEqual([r2, r1, r0]);
  });

  it('rolls back to the previous release under load with 0 failed requests', async () => {
    const traffic = load(domain);
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const reporter = new RecordingReporter();
    const result = await host.rollback(SITE.name, SITE.id, reporter);
    timings['rollback (under load)'] = Math.round(performance.now() - started);
    timings['rollback: switch + reload'] = Math.round((reporter.at['switched'] ?? 0) - (reporter.at['switch'] ?? 0));
    await new Promise((r) => setTimeout(r, 500));
    const counts = await traffic.stop();
    const during = acrossSwitch(counts.spans, reporter);
    loadCounts['rollback'] = { ok: counts.ok, failed: counts.failed, inFlightDuringSwitch: during };
    console.log(`rollback under load: ${counts.ok} ok, ${counts.failed} failed, ${during} in flight during switch+reload ${JSON.stringify(counts.failures.slice(0, 5))}`);
    expect(counts.failed).toBe(0);
    expect(counts.ok).toBeGreaterThan(0);
    expect(during).toBeGreaterThan(0);
    expect(result).toEqual({ currentRelease: r1, releases: [r2, r1, r0] });
    expect(current()).toBe(r1);
    expect(await marker()).toEqual({ status: 200, marker: 'v1' });
  });

  it('keeps the newest N releases, never current or the one before it', async () => {
    // current is r1 (after the rollback); keepReleases 3
    const a = await host.deploy(withGit('v2'), new RecordingReporter());
    expect(a.releases).toEqual([a.currentRelease, r2, r1]);
    const b = await host.deploy(withGit('v1'), new RecordingReporter());
    expect(b.releases).toEqual([b.currentRelease, a.currentRelease, r2]);
    expect(existsSync(join(paths.releases, r0))).toBe(false);
    expect(existsSync(join(paths.releases, r1))).toBe(false);
    expect(await marker()).toEqual({ status: 200, marker: 'v1' });
    const small = await host.deploy(withGit('v2', { keepReleases: 1 }), new RecordingReporter());
    // keep 1 still keeps current and the one before it
    expect(small.releases).toEqual([small.currentRelease, b.currentRelease]);
  });

  it('rolls back to a named release, and fails clearly when there is none', async () => {
    const { releases } = await host.releases(SITE.name);
    const oldest = releases[releases.length - 1] ?? '';
    const named = await host.rollbackTo(SITE.name, SITE.id, oldest, new RecordingReporter());
    expect(named.currentRelease).toBe(oldest);
    expect(await marker()).toEqual({ status: 200, marker: 'v1' });
    const none = await host.rollback(SITE.name, SITE.id, new RecordingReporter()).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(StepError);
    expect(none).toMatchObject({ reason: 'ReleaseNotFound' });
    // '' (RollbackSite.release unset) is "the one before current" too
    expect(await host.rollbackTo(SITE.name, SITE.id, '', new RecordingReporter()).catch((e: unknown) => e)).toMatchObject({ reason: 'ReleaseNotFound' });
    const gone = await host.rollbackTo(SITE.name, SITE.id, r0, new RecordingReporter()).catch((e: unknown) => e);
    expect(gone).toMatchObject({ reason: 'ReleaseNotFound' });
    const bad = await host.rollbackTo(SITE.name, SITE.id, '../../etc', new RecordingReporter()).catch((e: unknown) => e);
    expect(bad).toMatchObject({ reason: 'InvalidRelease' });
    expect(current()).toBe(oldest);
    expect((await marker()).status).toBe(200);
  });

  let rc = '';

  it('installs Composer dependencies as the site user before the health check; the new release serves them', async () => {
    const before = await host.releases(SITE.name);
    const reporter = new RecordingReporter();
    const started = performance.now();
    const result = await host.deploy(withGit('composer'), reporter);
    timings['deploy composer'] = Math.round(performance.now() - started);
    timings['deploy composer: dependencies'] = Math.round((reporter.at['health'] ?? 0) - (reporter.at['dependencies'] ?? 0));
    rc = result.currentRelease;
    expect(reporter.steps).toEqual(['validate', 'fetch', 'release', 'dependencies', 'health', 'switch', 'prune']);
    expect(reporter.lines).toContainEqual(expect.stringMatching(new RegExp(`^release ${rc}: composer install done in \\d+ ms$`)));
    expect(reporter.lines).toContain('composer: Generating optimized autoload files');
    expect(rc > (before.current ?? '')).toBe(true);
    expect(current()).toBe(rc);
    expect(await greeting()).toEqual({ status: 200, greeting: `hello from composer ${suffix}` });
    // installed in the release (a copy, not a link back into the clone), as the site user
    const owner = statSync(paths.root).uid;
    const vendor = join(paths.releases, rc, 'wp-content', 'vendor');
    const installed = join(vendor, 'pressluft-test', 'greeting', 'src', 'Greeter.php');
    expect(lstatSync(join(vendor, 'pressluft-test', 'greeting')).isDirectory()).toBe(true);
    expect(statSync(installed).uid).toBe(owner);
    expect(statSync(join(vendor, 'autoload.php')).uid).toBe(owner);
    expect(readFileSync(join(vendor, 'composer', 'autoload_classmap.php'), 'utf8')).toContain('PressluftTest\\\\Greeting\\\\Greeter');
    // Composer ran in the site's cgroups (memory and cpu), and what it started too
    const cgroups = parseProcCgroup(readFileSync(join(paths.releases, rc, 'wp-content', '.composer-cgroup'), 'utf8'));
    expect([join('/sys/fs/cgroup/memory', cgroups.get('memory') ?? ''), join('/sys/fs/cgroup/cpu', cgroups.get('cpu') ?? '')]).toEqual(
      harness.cgroupParents.map((parent) => join(parent, `site_${SITE.id}`)),
    );
    // Composer's HOME and cache are the site user's, outside the site tree
    const home = statSync(paths.composerHome);
    expect([home.uid, home.mode & 0o777]).toEqual([owner, 0o700]);
    // the release before it never had a vendor/ (it stays as it was)
    expect(existsSync(join(paths.releases, before.current ?? '', 'wp-content', 'vendor'))).toBe(false);
  });

  it('fails a deploy whose dependencies cannot be installed: no release, current and the site unchanged', async () => {
    const before = await host.releases(SITE.name);
    const reporter = new RecordingReporter();
    const error = await host.deploy(withGit('composer-missing'), reporter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ step: 'dependencies', reason: 'DependencyInstallFailed' });
    expect((error as Error).message).toMatch(/composer install exited 2/);
    expect((error as Error).message).toMatch(/pressluft-test\/missing, it could not be found/);
    console.log(`failed composer deploy: ${(error as Error).message.split('\n')[0] ?? ''}`);
    expect(reporter.steps).toEqual(['validate', 'fetch', 'release', 'dependencies']);
    expect(current()).toBe(rc);
    expect(await host.releases(SITE.name)).toEqual(before);
    expect(readdirSync(paths.releases).filter((e) => e.startsWith('.'))).toEqual([]);
    expect(await greeting()).toEqual({ status: 200, greeting: `hello from composer ${suffix}` });
  });

  it('leaves no clone or staging directory behind', async () => {
    expect(readdirSync(paths.releases).filter((e) => e.startsWith('.'))).toEqual([]);
    expect(readdirSync(join(settings.stateDir, 'git', SITE.name))).toEqual([]);
    const leftovers = await exec(['/usr/bin/pgrep', '-f', 'git clone']);
    expect(leftovers.stdout.trim()).toBe('');
  });
});
