import { describe, expect, it } from 'vitest';
import { StepError } from './errors.js';
import { siteConfig, SETTINGS } from '../../test/host-fixtures.js';
import { accountName, planSite, releaseName, RELEASE_NAME_PATTERN, sitePaths } from './naming.js';

describe('planSite', () => {
  it('takes a valid SiteConfig', () => {
    const plan = planSite(siteConfig());
    expect(plan).toEqual({
      name: 'shop',
      id: 'ax9z0k1m',
      account: 'site_ax9z0k1m',
      domains: ['shop.example.test', 'www.shop.example.test'],
      php: { memoryLimitMb: 256, maxChildren: 5, uploadMaxMb: 64 },
      wordpress: { title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test', xmlrpc: false },
      resources: { cpuPercent: 50, memoryMib: 512 },
      cache: { redis: false },
    });
  });

  it('takes spec.cache.redis', () => {
    expect(planSite(siteConfig({ cache: { redis: true } })).cache).toEqual({ redis: true });
  });

  it('fills the defaults for missing sections', () => {
    const plan = planSite(siteConfig({ php: undefined, resources: undefined, wordpress: { version: '', title: '', adminUser: '', adminEmail: 'a@b.test', locale: '', xmlrpc: false } }));
    expect(plan.php).toEqual({ memoryLimitMb: 256, maxChildren: 5, uploadMaxMb: 64 });
    expect(plan.resources).toEqual({ cpuPercent: 100, memoryMib: 512 });
    expect(plan.wordpress).toEqual({ title: 'shop', adminUser: 'admin', adminEmail: 'a@b.test', xmlrpc: false });
  });

  it('de-duplicates domains', () => {
    expect(planSite(siteConfig({ domains: ['a.test', 'a.test'] })).domains).toEqual(['a.test']);
  });

  it.each([
    ['a name that is not a DNS label', { name: 'Shop' }],
    ['a name with a slash', { name: '../etc' }],
    ['a short id', { id: 'abc' }],
    ['an id with capitals', { id: 'AX9Z0K1M' }],
    ['no domain', { domains: [] }],
    ['a domain with a space', { domains: ['a b.test'] }],
    ['a domain with a semicolon', { domains: ['a.test;'] }],
    ['an uppercase domain', { domains: ['Shop.test'] }],
    ['a wildcard domain', { domains: ['*.shop.test'] }],
    ['zero children that is out of range', { php: { version: '8.2', memoryLimitMb: 256, maxChildren: 500, uploadMaxMb: 64 } }],
    ['a title with a newline', { wordpress: { version: '6.1', title: 'a\nb', adminUser: 'admin', adminEmail: 'a@b.test', locale: '', xmlrpc: false } }],
    ['an admin user with a space', { wordpress: { version: '6.1', title: 't', adminUser: 'a b', adminEmail: 'a@b.test', locale: '', xmlrpc: false } }],
    ['an admin email without @', { wordpress: { version: '6.1', title: 't', adminUser: 'admin', adminEmail: 'nope', locale: '', xmlrpc: false } }],
  ])('refuses %s', (_label, overrides) => {
    let error: unknown;
    try {
      planSite(siteConfig(overrides));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ step: 'validate', reason: 'InvalidSite' });
  });
});

describe('names and paths', () => {
  it('names the account site_<id>', () => {
    expect(accountName('ax9z0k1m')).toBe('site_ax9z0k1m');
    expect(accountName('ax9z0k1m').length).toBeLessThanOrEqual(32);
    expect(() => accountName('x')).toThrow(StepError);
  });

  it('lays out a site', () => {
    const paths = sitePaths(SETTINGS, 'shop', 'ax9z0k1m');
    expect(paths).toMatchObject({
      root: '/var/www/sites/shop',
      current: '/var/www/sites/shop/current',
      releases: '/var/www/sites/shop/releases',
      wpConfig: '/var/www/sites/shop/shared/wp-config.php',
      uploads: '/var/www/sites/shop/shared/uploads',
      tmp: '/var/www/sites/shop/tmp',
      adminPasswordFile: '/var/lib/pressluft/sites/shop/admin-password',
      dbPasswordFile: '/var/lib/pressluft/sites/shop/db-password',
      fpmSocketDir: '/var/lib/pressluft/sock/site_ax9z0k1m',
      fpmSocket: '/var/lib/pressluft/sock/site_ax9z0k1m/php.sock',
      fpmConfig: '/var/lib/pressluft/php-fpm/shop/php-fpm.conf',
      nginxFile: '/etc/nginx/pressluft/site_ax9z0k1m.conf',
    });
  });

  it('names a release by its UTC time', () => {
    expect(releaseName(new Date('2026-11-29T18:15:00.123Z'))).toBe('20261129T181500Z');
    expect(RELEASE_NAME_PATTERN.test(releaseName(new Date()))).toBe(true);
  });
});
