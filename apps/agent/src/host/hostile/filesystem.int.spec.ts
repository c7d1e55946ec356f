// Hostile tenant vs. the agent's file work (ADR 0019): the site user plants symlinks and FIFOs at
// every path the agent manages, and races symlink swaps against release builds, prunes and site
// removal. Each case proves: nothing outside the attacking site's tree changed (a decoy /etc, the
// agent's own state, another site's tree), the agent is not blocked, and the operation fails
// cleanly or succeeds without effect.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SiteCgroup } from '../cgroup.js';
import { execOk } from '../exec.js';
import { sitePaths } from '../naming.js';
import { hostHarness, RecordingReporter } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';
import { diff, snapshot, type Snapshot } from '../../../test/watched-set.js';
import { SiteHost, StepError } from '../site-host.js';
import { requireUser } from '../users.js';

const services = inject('services');

function lstatSafe(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
const suffix = randomBytes(3).toString('hex');
const SITE = hostileSite(`evil-${suffix}`);

describe('hostile tenant: the agent never follows a path the site user can change', () => {
  const harness = hostHarness(services, `pressluft-hostile-fs-${suffix}`, { gitAllowLocal: true });
  const { root, settings } = harness;
  const host = new SiteHost(settings, createLogger({ name: 'hostile-fs', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const paths = sitePaths(settings, SITE.name, SITE.id);
  // The watched set: a decoy /etc (cron.d, a passwd, a root-only key), the agent's own node key, another site's tree.
  const etc = join(root, 'decoy-etc');
  const nodeKey = join(settings.stateDir, 'node');
  const other = join(settings.sitesRoot, `other-${suffix}`);
  const repo = join(root, 'repo');
  const plugin = '<?php\n// Plugin Name: hello\n';
  let tenant = { uid: -1, gid: -1 };

  /** A command as the site user (the attacker). */
  const asTenant = (...argv: string[]) => execOk(argv, { uid: tenant.uid, gid: tenant.gid });
  const plant = (target: string, at: string) => asTenant('/bin/ln', '-sfn', '--', target, at);
  const mkfifo = (at: string) => asTenant('/usr/bin/mkfifo', '--', at);
  const release = (name: string) => join(paths.releases, name);
  const deploy = (ref = 'main') => host.deploy({ ...SITE, git: { url: repo, ref, knownHosts: '', username: '', token: false } }, new RecordingReporter());
  const watched = () => snapshot([etc, nodeKey, other]);
  /** Converges the site again (as the next reconcile would) and proves it still serves its release. */
  const converge = async () => {
    const result = await host.provision(SITE, new RecordingReporter());
    expect(result.currentRelease).not.toBe('');
  };
  /** The operation may fail, but only as a clean StepError naming the step. */
  const cleanly = async (operation: Promise<unknown>): Promise<string> =>
    operation.then(
      () => 'succeeded',
      (error: unknown) => {
        expect(error).toBeInstanceOf(StepError);
        return `failed: ${(error as StepError).reason}`;
      },
    );
  /** Runs an attack: the watched set must be unchanged afterwards, whatever the outcome. */
  const attack = async (run: () => Promise<string>): Promise<string> => {
    const before: Snapshot = await watched();
    const outcome = await run();
    expect(await diff(before)).toEqual([]);
    return outcome;
  };

  beforeAll(async () => {
    mkdirSync(join(etc, 'cron.d'), { recursive: true });
    writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n', { mode: 0o644 });
    writeFileSync(join(etc, 'shadow'), 'root:$6$secret:19000::::::\n', { mode: 0o600 });
    mkdirSync(join(etc, 'plugins', 'hello'), { recursive: true });
    writeFileSync(join(etc, 'plugins', 'hello', 'hello.php'), plugin, { mode: 0o644 });
    mkdirSync(nodeKey, { recursive: true, mode: 0o700 });
    writeFileSync(join(nodeKey, 'identity.key'), 'PRIVATE KEY\n', { mode: 0o600 });
    mkdirSync(settings.sitesRoot, { mode: 0o755 });
    mkdirSync(join(other, 'shared'), { recursive: true, mode: 0o750 });
    writeFileSync(join(other, 'shared', 'wp-config.php'), "<?php define('DB_PASSWORD', 'other');\n", { mode: 0o640 });
    chownSync(other, 65534, 65534);
    // The site's repository: one plugin, identical in every ref (so a deploy hard-links it from the previous release).
    mkdirSync(join(repo, 'wp-content', 'plugins', 'hello'), { recursive: true });
    writeFileSync(join(repo, 'wp-content', 'plugins', 'hello', 'hello.php'), plugin);
    const git = (...args: string[]) =>
      execOk(['/usr/bin/git', '-C', repo, '-c', 'user.name=T', '-c', 'user.email=t@example.test', ...args], { env: { PATH: '/usr/bin:/bin', HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
    await git('init', '--quiet', '-b', 'main');
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'v1');
    await host.provision(SITE, new RecordingReporter());
    tenant = await requireUser(`site_${SITE.id}`);
    await deploy();
  }, 180_000);

  afterAll(() => removeSites(host, harness, [SITE]), 120_000);

  describe('a symlink or FIFO at a managed path before converge, rotation and fingerprinting', () => {
    it('shared/wp-config.php -> /etc/passwd: provision and rotation replace the link, never write through it', async () => {
      for (const operation of [() => host.provision(SITE, new RecordingReporter()), () => host.rotateDatabasePassword(SITE.name, SITE.id, new RecordingReporter())]) {
        await plant(join(etc, 'passwd'), paths.wpConfig);
        expect(await attack(() => cleanly(operation()))).toBe('succeeded');
        expect(lstatSync(paths.wpConfig).isFile()).toBe(true);
      }
    }, 120_000);

    it('shared/wp-config.php as a FIFO: fingerprints answer at once (item missing), provision and rotation replace it promptly', async () => {
      const fresh = await host.fingerprints(SITE.name, SITE.id);
      rmSync(paths.wpConfig);
      await mkfifo(paths.wpConfig);
      const started = Date.now();
      const prints = await host.fingerprints(SITE.name, SITE.id);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(Object.keys(prints).length).toBe(Object.keys(fresh).length - 1);
      for (const operation of [() => host.provision(SITE, new RecordingReporter()), () => host.rotateDatabasePassword(SITE.name, SITE.id, new RecordingReporter())]) {
        if (!statSync(paths.wpConfig).isFIFO()) {
          rmSync(paths.wpConfig);
          await mkfifo(paths.wpConfig);
        }
        expect(await attack(() => cleanly(operation()))).toBe('succeeded');
        expect(statSync(paths.wpConfig).isFile()).toBe(true);
      }
    }, 120_000);

    it.each([
      ['shared -> /etc/cron.d', () => paths.shared, () => join(etc, 'cron.d'), 'SiteTreeFailed'],
      ['shared/uploads -> /etc (would be chowned to the site)', () => paths.uploads, () => etc, 'SiteTreeFailed'],
      ['releases -> /etc', () => paths.releases, () => etc, 'SiteTreeFailed'],
    ])('%s: provision refuses to follow it and changes nothing outside the tree', async (_attack, at, target, reason) => {
      const saved = `${at()}.saved`;
      await asTenant('/bin/mv', '-T', '--', at(), saved);
      await plant(target(), at());
      try {
        expect(await attack(() => cleanly(host.provision(SITE, new RecordingReporter())))).toBe(`failed: ${reason}`);
        await attack(() => cleanly(host.rotateDatabasePassword(SITE.name, SITE.id, new RecordingReporter())));
        const prints = await attack(async () => JSON.stringify(await host.fingerprints(SITE.name, SITE.id)));
        expect(prints).not.toBe('{}');
      } finally {
        rmSync(at());
        await asTenant('/bin/mv', '-T', '--', saved, at());
      }
      await converge();
    }, 120_000);

    it('current -> / : fingerprints and provision do not follow it (provision points it back at a release)', async () => {
      await plant('/', paths.current);
      await attack(async () => JSON.stringify(await host.fingerprints(SITE.name, SITE.id)));
      expect(await attack(() => cleanly(host.provision(SITE, new RecordingReporter())))).toBe('succeeded');
      expect(lstatSync(paths.current).isSymbolicLink()).toBe(true);
    }, 120_000);
  });

  describe('deploy, prune and remove with planted links', () => {
    it("the previous release's wp-content/plugins -> a decoy holding the same file: the deploy copies, it never hard-links the decoy's file", async () => {
      const { current: currentRelease } = await host.releases(SITE.name);
      const plugins = join(release(currentRelease ?? ''), 'wp-content', 'plugins');
      await asTenant('/bin/mv', '-T', '--', plugins, `${plugins}.saved`);
      await plant(join(etc, 'plugins'), plugins);
      const result = await attack(() => cleanly(deploy()));
      expect(result).toBe('succeeded');
      const now = await host.releases(SITE.name);
      const deployed = statSync(join(release(now.current ?? ''), 'wp-content', 'plugins', 'hello', 'hello.php'));
      expect(deployed.ino).not.toBe(statSync(join(etc, 'plugins', 'hello', 'hello.php')).ino);
    }, 120_000);

    it('a .staging-* symlink to /etc in releases/ and old releases swapped for symlinks to /etc: the deploy and its prune remove the links, not their targets', async () => {
      await plant(etc, join(paths.releases, '.staging-20000101T000000Z-abc'));
      for (const name of readdirSync(paths.releases).filter((n) => /^\d{8}T\d{6}Z$/.test(n))) {
        if (name === (await host.releases(SITE.name)).current) continue;
        await asTenant('/bin/mv', '-T', '--', release(name), `${release(name)}.moved`);
        await plant(etc, release(name));
      }
      expect(await attack(() => cleanly(deploy()))).toBe('succeeded');
      expect(await attack(() => cleanly(deploy()))).toBe('succeeded');
      expect(existsSync(join(paths.releases, '.staging-20000101T000000Z-abc'))).toBe(false);
    }, 120_000);
  });

  describe('symlink swaps raced against the agent', () => {
    /** A tight loop as the site user: every entry of releases/ (and shared/) swapped for a symlink to the decoy and back, as fast as it can. */
    const swapLoop = (): ChildProcess => {
      const script = [
        `cd ${paths.root} || exit 1`,
        'while :; do',
        '  for d in releases/* releases/.staging-* releases/*/wp-content releases/*/wp-content/plugins shared/uploads shared releases; do',
        '    case "$d" in *.x) continue ;; esac',
        `    [ -d "$d" ] && [ ! -L "$d" ] && mv -T "$d" "$d.x" 2>/dev/null && ln -s ${etc} "$d" 2>/dev/null; rm -f "$d" 2>/dev/null; mv -T "$d.x" "$d" 2>/dev/null`,
        '  done',
        'done',
      ].join('\n');
      return spawn('/bin/sh', ['-c', script], { uid: tenant.uid, gid: tenant.gid, stdio: 'ignore' });
    };

    /** Puts back every `<d>.x` the killed loop left, over the symlink (or nothing) at `<d>`; parents first. */
    const restoreSwapped = () => {
      const restore = (dir: string) => {
        if (!lstatSafe(dir)?.isDirectory()) return;
        for (const entry of readdirSync(dir).filter((n) => n.endsWith('.x'))) {
          const original = join(dir, entry.slice(0, -2));
          const st = lstatSafe(original);
          if (st === undefined || st.isSymbolicLink()) {
            rmSync(original, { force: true });
            renameSync(join(dir, entry), original);
          } else rmSync(join(dir, entry), { recursive: true, force: true });
        }
      };
      for (const dir of [paths.root, paths.shared, paths.releases]) restore(dir);
      for (const name of readdirSync(paths.releases)) for (const dir of [release(name), join(release(name), 'wp-content')]) restore(dir);
    };

    it('50 release builds, prunes and converges while the tenant swaps every directory for a symlink to /etc: nothing outside the tree changes, every failure is clean', async () => {
      const outcomes: string[] = [];
      const loop = swapLoop();
      try {
        await attack(async () => {
          for (let i = 0; i < 25; i++) outcomes.push(await cleanly(deploy()));
          for (let i = 0; i < 25; i++) outcomes.push(await cleanly(host.provision(SITE, new RecordingReporter())));
          return 'done';
        });
      } finally {
        loop.kill('SIGKILL');
      }
      console.log(`raced outcomes: ${JSON.stringify(outcomes.reduce<Record<string, number>>((n, o) => ({ ...n, [o]: (n[o] ?? 0) + 1 }), {}))}`);
      expect(outcomes).toHaveLength(50);
      // Once the tenant stops (and puts back what its loop left half-swapped), the site converges and deploys again.
      restoreSwapped();
      await converge();
      expect(await cleanly(deploy())).toBe('succeeded');
    }, 600_000);

    it('site removal kills the tenant processes first (cgroup) and removes the tree without following the symlinks they planted', async () => {
      await plant(etc, join(paths.shared, 'uploads', 'etc-link'));
      await plant(join(etc, 'shadow'), join(paths.root, 'tmp', 'shadow-link'));
      const loop = swapLoop();
      const group = await SiteCgroup.locate(settings.cgroup ?? { root: '/sys/fs/cgroup', prefix: '' }, `site_${SITE.id}`);
      await group.adopt([loop.pid ?? 0]);
      const exited = new Promise((resolve) => loop.once('exit', resolve));
      expect(await attack(() => cleanly(host.remove(SITE.name, SITE.id, new RecordingReporter())))).toBe('succeeded');
      await exited;
      expect(existsSync(paths.root)).toBe(false);
      expect(readdirSync(dirname(paths.buildArea)).filter((n) => n.startsWith(SITE.name))).toEqual([]);
      expect(readdirSync(paths.buildArea)).toEqual([]);
    }, 120_000);
  });
});
