// Test data for the host unit specs (apps/agent/test: outside src/, so the build leaves it out).
import type { SiteConfig } from '@pressluft/proto';
import { planSite, sitePaths, type SitePaths, type SitePlan } from '../src/host/naming.js';
import type { HostSettings } from '../src/host/settings.js';

/** Shared by the unit specs: a node's settings and one site, as the integration test builds them. */
export const SETTINGS: HostSettings = {
  sitesRoot: '/var/www/sites',
  stateDir: '/var/lib/pressluft',
  wordpressSource: '/usr/share/wordpress',
  nginx: { command: ['/usr/sbin/nginx'], sitesDir: '/etc/nginx/pressluft', listen: '127.0.0.1:8081', user: 'www-data' },
  phpFpm: { binary: '/usr/sbin/php-fpm8.2' },
  mariadb: { command: ['/usr/bin/mariadb'], socket: '/run/mysqld/mysqld.sock' },
  wpCli: ['/usr/local/bin/wp'],
  composer: ['/usr/bin/composer'],
  cgroup: { root: '/sys/fs/cgroup', prefix: 'pressluft' },
};

export function siteConfig(overrides: Partial<SiteConfig> = {}): SiteConfig {
  return {
    name: 'shop',
    id: 'ax9z0k1m',
    environment: 'production',
    domains: ['shop.example.test', 'www.shop.example.test'],
    php: { version: '8.2', memoryLimitMb: 256, maxChildren: 5, uploadMaxMb: 64 },
    wordpress: { version: '6.1', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
    resources: { cpuPercent: 50, memoryMib: 512 },
    keepReleases: 5,
    ...overrides,
  };
}

export function shop(overrides: Partial<SiteConfig> = {}): { plan: SitePlan; paths: SitePaths } {
  const plan = planSite(siteConfig(overrides));
  return { plan, paths: sitePaths(SETTINGS, plan.name, plan.id) };
}
