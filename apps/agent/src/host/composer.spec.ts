import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSER_INSTALL_ARGS, composerEnv, composerInstallArgv, composerOutputTail, installDependencies } from './composer.js';
import { DISABLED_FUNCTIONS } from './php-hardening.js';

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

  it('gives Composer a HOME and cache of the site, the PHP limits of the pool but for what it needs, and nothing of the agent; vendor/ stays in wp-content', () => {
    expect(composerEnv('/opt/pressluft/templates', '/var/www/sites/shop', '/var/lib/pressluft-agent/composer/shop')).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      PHP_INI_SCAN_DIR: ':/opt/pressluft/templates/php-cli',
      PRESSLUFT_OPEN_BASEDIR: '/var/www/sites/shop/:/var/lib/pressluft-agent/composer/shop/:/usr/share/php/:/etc/ssl/certs/',
      PRESSLUFT_DISABLE_FUNCTIONS: DISABLED_FUNCTIONS.filter((name) => !['putenv', 'proc_open', 'proc_close', 'proc_get_status', 'proc_terminate'].includes(name)).join(','),
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
      const jail = { helper: '/nonexistent/enter.sh', ops: [], pidNamespace: true };
      const result = await installDependencies({ composer: ['/nonexistent/composer'], wpContent: dir, home: join(dir, 'home'), owner: { uid: 0, gid: 0 }, siteRoot: dir, templatesDir: dir, jail });
      expect(result).toEqual({ ran: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
