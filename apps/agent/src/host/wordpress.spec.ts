import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shop } from '../../test/host-fixtures.js';
import { defaultTemplatesDir } from './template.js';
import { renderObjectCache } from './object-cache.js';
import { DISABLED_FUNCTIONS } from './php-hardening.js';
import { cronRunArgv, generateSalts, homeUrl, installArgv, isInstalledArgv, isSalts, optionGetArgv, optionUpdateArgv, randomString, renderWpConfig, SALT_NAMES, siteUrl, wpCliEnv, type Salts } from './wordpress.js';

const WP = ['/usr/local/bin/wp'];

describe('WP-CLI argv (the contract with the real WP-CLI and the stand-in)', () => {
  const { plan } = shop();

  it('pins `wp core is-installed`', () => {
    expect(isInstalledArgv(WP, '/var/www/sites/shop/current')).toEqual(['/usr/local/bin/wp', 'core', 'is-installed', '--path=/var/www/sites/shop/current']);
  });

  it('pins `wp core install`, the password prompted for on stdin', () => {
    expect(installArgv(WP, '/var/www/sites/shop/current', plan)).toEqual([
      '/usr/local/bin/wp',
      'core',
      'install',
      '--path=/var/www/sites/shop/current',
      '--url=http://shop.example.test',
      '--title=Shop',
      '--admin_user=admin',
      '--admin_email=ops@example.test',
      '--skip-email',
      '--prompt=admin_password',
    ]);
  });

  it('pins `wp cron event run --due-now`', () => {
    expect(cronRunArgv(WP, '/var/www/sites/shop/current')).toEqual(['/usr/local/bin/wp', 'cron', 'event', 'run', '--due-now', '--path=/var/www/sites/shop/current']);
  });

  it('keeps a title with spaces and quotes in one argument', () => {
    const { plan: odd } = shop({ wordpress: { version: '6.1', title: `Tom's "Shop" --admin_user=root`, adminUser: 'admin', adminEmail: 'a@b.test', locale: '', xmlrpc: false } });
    const argv = installArgv(WP, '/p', odd);
    expect(argv).toContain(`--title=Tom's "Shop" --admin_user=root`);
    expect(argv.filter((a) => a.startsWith('--admin_user='))).toEqual(['--admin_user=admin']);
  });

  it('gives WP-CLI a HOME of its own, the open_basedir of the pool and every function the pool disables, and nothing of the agent', () => {
    expect(wpCliEnv('/opt/pressluft/templates', { root: '/var/www/sites/shop', tmp: '/var/www/sites/shop/tmp' })).toEqual({
      PATH: expect.any(String) as string,
      LANG: 'C.UTF-8',
      HOME: '/var/www/sites/shop/tmp',
      PHP_INI_SCAN_DIR: ':/opt/pressluft/templates/php-cli',
      PRESSLUFT_OPEN_BASEDIR: '/var/www/sites/shop/',
      PRESSLUFT_DISABLE_FUNCTIONS: DISABLED_FUNCTIONS.join(','),
    });
  });
});

describe('wp-config.php', () => {
  const { plan, paths } = shop();
  const template = readFileSync(join(defaultTemplatesDir(), 'wordpress/wp-config.php.tmpl'), 'utf8');
  // Fixed salts: generated ones may contain "{{" (the alphabet has braces), which the check for
  // placeholders left unrendered below would mistake for one.
  const salts = Object.fromEntries(SALT_NAMES.map((name, i) => [name, `salt-${i}-`.padEnd(64, 'x')])) as Salts;
  const redisTemplate = readFileSync(join(defaultTemplatesDir(), 'wordpress/redis-object-cache.php.tmpl'), 'utf8');
  const NO_CACHE = renderObjectCache(redisTemplate, undefined);

  it('renders the database, URLs, salts and hardening', () => {
    const php = renderWpConfig(template, plan, paths, '/run/mysqld/mysqld.sock', 'secret', salts, NO_CACHE);
    expect(php).toContain("define( 'DB_NAME', 'site_ax9z0k1m' );");
    expect(php).toContain("define( 'DB_USER', 'site_ax9z0k1m' );");
    expect(php).toContain("define( 'DB_PASSWORD', 'secret' );");
    expect(php).toContain("define( 'DB_HOST', 'localhost:/run/mysqld/mysqld.sock' );");
    // The URL is WordPress's own options (switched by IssueCertificate), never pinned by a constant.
    expect(php).not.toContain("define( 'WP_HOME'");
    expect(php).not.toContain("define( 'WP_SITEURL'");
    expect(php).toContain("define( 'DISALLOW_FILE_EDIT', true );");
    expect(php).toContain("define( 'DISALLOW_FILE_MODS', true );");
    // mail() is disabled in the pool: wp_mail() fails soft, and only when PHP has no mail() itself
    expect(php).toMatch(/if \( ! function_exists\( 'mail' \) \) \{\s+function mail\(\) \{\s+return false;/);
    expect(php).toContain("define( 'FS_METHOD', 'direct' );");
    // WP-Cron runs on the node's schedule (the agent's CronLoop), never from a page view.
    expect(php).toContain("define( 'DISABLE_WP_CRON', true );");
    expect(php).toContain(`define( 'NONCE_SALT', '${salts.nonce_salt}' );`);
    expect(php).not.toContain('{{');
  });

  it('has no WP_REDIS_* constant while the cache is off, and the site\'s own login, prefix and socket when it is on', () => {
    expect(renderWpConfig(template, plan, paths, '/s', 'secret', salts, NO_CACHE)).not.toContain('WP_REDIS_');
    const login = { socket: '/run/pressluft-redis/redis.sock', user: plan.account, password: "p'w\\" };
    const php = renderWpConfig(template, plan, paths, '/s', 'secret', salts, renderObjectCache(redisTemplate, login));
    expect(php).toContain("define( 'WP_REDIS_SCHEME', 'unix' );");
    expect(php).toContain("define( 'WP_REDIS_PATH', '/run/pressluft-redis/redis.sock' );");
    expect(php).toContain("define( 'WP_REDIS_USERNAME', 'site_ax9z0k1m' );");
    expect(php).toContain("define( 'WP_REDIS_PASSWORD', 'p\\'w\\\\' );");
    expect(php).toContain("define( 'WP_REDIS_PREFIX', 'site_ax9z0k1m:' );");
    expect(php).toContain("define( 'WP_REDIS_DATABASE', 0 );");
    // Before WordPress loads (the drop-in reads them then), and nothing left unrendered.
    expect(php.indexOf('WP_REDIS_PATH')).toBeLessThan(php.indexOf("require_once ABSPATH . 'wp-settings.php'"));
    expect(php).not.toContain('{{');
  });

  it('writes a value that looks like a placeholder as it is (values are not rendered again)', () => {
    const tricky = { ...salts, auth_key: `{{db_password}}${'x'.repeat(49)}` };
    const php = renderWpConfig(template, plan, paths, '/s', 'secret', tricky, NO_CACHE);
    expect(php).toContain(`define( 'AUTH_KEY', '{{db_password}}${'x'.repeat(49)}' );`);
  });

  it('escapes a password that would end the PHP string', () => {
    const php = renderWpConfig(template, plan, paths, '/s', "x'); system('id'); //\\", salts, NO_CACHE);
    expect(php).toContain("define( 'DB_PASSWORD', 'x\\'); system(\\'id\\'); //\\\\' );");
  });

  it('makes fresh, distinct, quote-free salts', () => {
    const a = generateSalts();
    const b = generateSalts();
    expect(isSalts(a)).toBe(true);
    for (const name of SALT_NAMES) {
      expect(a[name]).toHaveLength(64);
      expect(a[name]).not.toMatch(/['\\]/);
      expect(a[name]).not.toBe(b[name]);
    }
    expect(isSalts({ auth_key: 'x' })).toBe(false);
  });

  it('makes random passwords', () => {
    expect(randomString(32)).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(randomString(32)).not.toBe(randomString(32));
    expect(homeUrl(plan)).toBe('http://shop.example.test');
  });

  it.each([
    ['https', 'https://shop.example.test'],
    ['http', 'http://shop.example.test'],
  ] as const)('names the site URL over %s as %s, without a port (sites are addressed by Host alone)', (scheme, url) => {
    expect(siteUrl('shop.example.test', scheme)).toBe(url);
  });

  it('reads and updates an option with WP-CLI argv', () => {
    expect(optionGetArgv(['/usr/local/bin/wp'], '/srv/shop/current', 'home')).toEqual(['/usr/local/bin/wp', 'option', 'get', 'home', '--path=/srv/shop/current']);
    expect(optionUpdateArgv(['/usr/local/bin/wp'], '/srv/shop/current', 'siteurl', 'https://shop.example.test')).toEqual([
      '/usr/local/bin/wp',
      'option',
      'update',
      'siteurl',
      'https://shop.example.test',
      '--path=/srv/shop/current',
    ]);
  });
});
