import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSER_INSTALL_ARGS, composerEnv, composerInstallArgv, composerOutputTail, installDependencies } from './composer.js';

describe('composer install', () => {
  it('runs a pinned argv: no dev packages, no prompts, no plugins, no scripts', () => {
    expect(composerInstallArgv(['/usr/bin/composer'])).toEqual([
      '/usr/bin/composer',
      'install',
      '--no-dev',
      '--no-interaction',
      '--no-progress',
      '--no-ansi',
      '--prefer-dist',
      '--optimize-autoloader',
      '--no-plugins',
      '--no-scripts',
    ]);
    expect(composerInstallArgv(['/usr/bin/php', '/opt/composer dir/composer.phar']).slice(0, 3)).toEqual(['/usr/bin/php', '/opt/composer dir/composer.phar', 'install']);
    expect(COMPOSER_INSTALL_ARGS).not.toContain('--dev');
  });

  it('gives Composer a HOME and cache of the site and nothing of the agent; vendor/ stays in wp-content', () => {
    expect(composerEnv('/var/lib/pressluft-agent/composer/shop')).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      HOME: '/var/lib/pressluft-agent/composer/shop',
      COMPOSER_HOME: '/var/lib/pressluft-agent/composer/shop/config',
      COMPOSER_CACHE_DIR: '/var/lib/pressluft-agent/composer/shop/cache',
      COMPOSER_VENDOR_DIR: 'vendor',
      COMPOSER_BIN_DIR: 'vendor/bin',
      COMPOSER_NO_INTERACTION: '1',
    });
  });

  it('keeps the last lines that say something, with the solver reason of a failed resolve', () => {
    const stderr = [
      'Loading composer repositories with package information',
      'Updating dependencies',
      'Your requirements could not be resolved to an installable set of packages.',
      '',
      '  Problem 1',
      '    - Root composer.json requires acme/missing, it could not be found in any version, there may be a typo in the package name.',
      '',
      'Potential causes:',
      ' - A typo in the package name',
      ' - The package is not available in a stable-enough version according to your minimum-stability setting',
      '   see <https://getcomposer.org/doc/04-schema.md#minimum-stability> for more details.',
      " - It's a private package and you forgot to add a custom repository to find it",
      '',
      'Read <https://getcomposer.org/doc/articles/troubleshooting.md> for further common problems.',
      'Running update with --no-dev does not mean require-dev is ignored.',
    ].join('\n');
    const out = composerOutputTail('', stderr);
    expect(out.split('\n')).toHaveLength(12);
    expect(out).toContain('requires acme/missing, it could not be found');
    expect(out).not.toMatch(/\n\s*\n/);
    expect(composerOutputTail('stdout line\n', '')).toBe('stdout line');
  });

  it('skips a wp-content without composer.json, without running anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pressluft-composer-'));
    try {
      mkdirSync(join(dir, 'composer.json'));
      writeFileSync(join(dir, 'index.php'), '<?php\n');
      // composer.json as a directory is no manifest either; the binary would fail to start if it ran
      const result = await installDependencies({ composer: ['/nonexistent/composer'], wpContent: dir, home: join(dir, 'home'), owner: { uid: 0, gid: 0 } });
      expect(result).toEqual({ ran: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops Composer when it cannot be confined to the site cgroup: DependencyInstallFailed, nothing left running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pressluft-composer-'));
    try {
      writeFileSync(join(dir, 'composer.json'), '{}');
      let spawned = 0;
      const started = Date.now();
      // A stand-in that would run for 30 s if it were not stopped.
      const error = await installDependencies({
        composer: ['/bin/sleep', '30'],
        wpContent: dir,
        home: join(dir, 'home'),
        owner: { uid: 0, gid: 0 },
        confine: (pid) => {
          spawned = pid;
          return Promise.reject(new Error('cgroup.procs: No such file or directory'));
        },
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'StepError', step: 'dependencies', reason: 'DependencyInstallFailed' });
      expect((error as Error).message).toBe(
        "composer could not run (/bin/sleep): stopped: it could not be moved into the site's cgroup (cgroup.procs: No such file or directory)",
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(spawned).toBeGreaterThan(0);
      expect(existsSync(`/proc/${spawned}`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
