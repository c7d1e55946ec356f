import { DEFAULT_BLOCKED_NETWORKS } from '@pressluft/domain';
import { ConfigError } from '@pressluft/platform';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from './config.js';

const base = { PRESSLUFT_AGENT_NODE: 'web-1' };

describe('agent settings', () => {
  it('has production defaults', () => {
    const config = loadAgentConfig(base);
    expect(config.host.sitesRoot).toBe('/var/www/sites');
    expect(config.host.nginx.command).toEqual(['/usr/sbin/nginx']);
    expect(config.host.cgroup).toEqual({ root: '/sys/fs/cgroup', prefix: 'pressluft', relativeTo: 'root' });
    expect(config.enrollment.endpoint).toBe('127.0.0.1:8444');
    expect(config.host.composer).toEqual(['/usr/bin/composer']);
    expect(config.host.gitLimits).toEqual({ maxBytes: 512 * 1024 * 1024, maxFiles: 100_000, timeoutMs: 300_000 });
    expect(config.commandDeadlineMs).toBe(30 * 60_000);
    expect(config.host.firewall).toBeUndefined(); // the production unit turns it on
    expect(config.host.redis).toBeUndefined();
    expect(config.cronMs).toBe(60_000);
    expect(config.host.cronTimeoutMs).toBe(300_000);
  });

  it('takes the WP-Cron interval (0: off) and timeout', () => {
    expect(loadAgentConfig({ ...base, PRESSLUFT_AGENT_CRON_MS: '0' }).cronMs).toBe(0);
    const config = loadAgentConfig({ ...base, PRESSLUFT_AGENT_CRON_MS: '300000', PRESSLUFT_AGENT_CRON_TIMEOUT_MS: '60000' });
    expect(config.cronMs).toBe(300_000);
    expect(config.host.cronTimeoutMs).toBe(60_000);
  });

  it('takes the git limits and the command deadline', () => {
    const config = loadAgentConfig({ ...base, PRESSLUFT_AGENT_GIT_MAX_BYTES: '1048576', PRESSLUFT_AGENT_GIT_MAX_FILES: '500', PRESSLUFT_AGENT_GIT_TIMEOUT_MS: '60000', PRESSLUFT_AGENT_COMMAND_DEADLINE_MS: '3600000' });
    expect(config.host.gitLimits).toEqual({ maxBytes: 1_048_576, maxFiles: 500, timeoutMs: 60_000 });
    expect(config.commandDeadlineMs).toBe(3_600_000);
  });

  it('takes the firewall on with its defaults, or other local ports and blocked networks', () => {
    const on = { ...base, PRESSLUFT_AGENT_FIREWALL: 'on' };
    expect(loadAgentConfig(on).host.firewall).toEqual({ command: ['/usr/sbin/nft'], localPorts: [80, 443], blockedNetworks: [...DEFAULT_BLOCKED_NETWORKS] });
    const config = loadAgentConfig({ ...on, PRESSLUFT_AGENT_FIREWALL_LOCAL_PORTS: '8081', PRESSLUFT_AGENT_FIREWALL_BLOCKED_NETWORKS: '169.254.0.0/16, 10.1.0.0/16' });
    expect(config.host.firewall).toMatchObject({ localPorts: [8081], blockedNetworks: ['169.254.0.0/16', '10.1.0.0/16'] });
  });

  it('takes the node\'s Redis socket, with the admin user and its password file', () => {
    expect(loadAgentConfig({ ...base, PRESSLUFT_AGENT_REDIS_SOCKET: '/run/pressluft-redis/redis.sock' }).host.redis).toEqual({
      socket: '/run/pressluft-redis/redis.sock',
      adminUser: 'pressluft-agent',
      adminPasswordFile: '/etc/pressluft/redis-admin-password',
    });
  });

  it('serves HTTP only, without ACME providers or public addresses, unless told', () => {
    const config = loadAgentConfig(base);
    expect(config.host.nginx.tlsListen).toBeUndefined();
    expect(config.host.nginx.httpsPort).toBeUndefined();
    expect(config.host.acme).toEqual({});
    expect(config.host.publicAddresses).toEqual([]);
    expect(config.host.pageCacheRoot).toBeUndefined();
  });

  it('takes the TLS listener, the HTTPS port, the ACME providers, public addresses and the page cache root', () => {
    const config = loadAgentConfig({
      ...base,
      PRESSLUFT_AGENT_SITES_TLS_LISTEN: '127.0.0.1:8082',
      PRESSLUFT_AGENT_HTTPS_PORT: '8443',
      PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL: 'http://127.0.0.1:8055/',
      PRESSLUFT_AGENT_CLOUDFLARE_API_URL: 'https://cf.example.test/client/v4',
      PRESSLUFT_AGENT_PUBLIC_ADDRESSES: '203.0.113.7, 2001:db8::7',
      PRESSLUFT_AGENT_PAGE_CACHE_ROOT: '/var/cache/pressluft/pages',
    });
    expect(config.host.nginx).toMatchObject({ tlsListen: '127.0.0.1:8082', httpsPort: 8443 });
    expect(config.host.acme).toEqual({ challtestsrvUrl: 'http://127.0.0.1:8055', cloudflareApiUrl: 'https://cf.example.test/client/v4' });
    expect(config.host.publicAddresses).toEqual(['203.0.113.7', '2001:db8::7']);
    expect(config.host.pageCacheRoot).toBe('/var/cache/pressluft/pages');
    expect(loadAgentConfig({ ...base, PRESSLUFT_AGENT_SITES_TLS_LISTEN: '443' }).host.nginx.tlsListen).toBe('443');
  });

  it('takes argv prefixes as JSON arrays and cgroups off', () => {
    const config = loadAgentConfig({ ...base, PRESSLUFT_AGENT_WP_CLI: '["/usr/bin/php","/opt/wp cli/wp"]', PRESSLUFT_AGENT_CGROUP_ROOT: 'off' });
    expect(config.host.wpCli).toEqual(['/usr/bin/php', '/opt/wp cli/wp']);
    expect(loadAgentConfig({ ...base, PRESSLUFT_AGENT_COMPOSER: '["/usr/bin/php","/opt/composer/composer.phar"]' }).host.composer).toEqual(['/usr/bin/php', '/opt/composer/composer.phar']);
    expect(config.host.cgroup).toBeUndefined();
  });

  it.each([
    [{}, 'PRESSLUFT_AGENT_NODE'],
    [{ PRESSLUFT_AGENT_NODE: 'Web_1' }, 'PRESSLUFT_AGENT_NODE'],
    [{ ...base, PRESSLUFT_AGENT_SITES_ROOT: 'relative/sites' }, 'PRESSLUFT_AGENT_SITES_ROOT'],
    [{ ...base, PRESSLUFT_AGENT_NGINX_COMMAND: 'nginx -s reload' }, 'PRESSLUFT_AGENT_NGINX_COMMAND'],
    [{ ...base, PRESSLUFT_AGENT_NGINX_COMMAND: '["nginx"]' }, 'PRESSLUFT_AGENT_NGINX_COMMAND'],
    [{ ...base, PRESSLUFT_AGENT_WP_CLI: '[]' }, 'PRESSLUFT_AGENT_WP_CLI'],
    [{ ...base, PRESSLUFT_AGENT_COMPOSER: 'composer install' }, 'PRESSLUFT_AGENT_COMPOSER'],
    [{ ...base, PRESSLUFT_AGENT_COMPOSER: '["composer"]' }, 'PRESSLUFT_AGENT_COMPOSER'],
    [{ ...base, PRESSLUFT_AGENT_NGINX_LISTEN: '0.0.0.0:80; evil' }, 'PRESSLUFT_AGENT_NGINX_LISTEN'],
    [{ ...base, PRESSLUFT_AGENT_ENROLL_ENDPOINT: 'https://cp:8444' }, 'PRESSLUFT_AGENT_ENROLL_ENDPOINT'],
    [{ ...base, PRESSLUFT_AGENT_CGROUP_PREFIX: '../x' }, 'PRESSLUFT_AGENT_CGROUP_PREFIX'],
    [{ ...base, PRESSLUFT_AGENT_HEARTBEAT_MS: '10' }, 'PRESSLUFT_AGENT_HEARTBEAT_MS'],
    [{ ...base, PRESSLUFT_AGENT_CGROUP_RELATIVE_TO: 'parent' }, 'PRESSLUFT_AGENT_CGROUP_RELATIVE_TO'],
    [{ ...base, PRESSLUFT_AGENT_GIT_MAX_BYTES: 'lots' }, 'PRESSLUFT_AGENT_GIT_MAX_BYTES'],
    [{ ...base, PRESSLUFT_AGENT_GIT_TIMEOUT_MS: '0' }, 'PRESSLUFT_AGENT_GIT_TIMEOUT_MS'],
    [{ ...base, PRESSLUFT_AGENT_COMMAND_DEADLINE_MS: '1000' }, 'PRESSLUFT_AGENT_COMMAND_DEADLINE_MS'],
    [{ ...base, PRESSLUFT_AGENT_CRON_MS: '500' }, 'PRESSLUFT_AGENT_CRON_MS'],
    [{ ...base, PRESSLUFT_AGENT_CRON_MS: '-1' }, 'PRESSLUFT_AGENT_CRON_MS'],
    [{ ...base, PRESSLUFT_AGENT_CRON_TIMEOUT_MS: '0' }, 'PRESSLUFT_AGENT_CRON_TIMEOUT_MS'],
    [{ ...base, PRESSLUFT_AGENT_FIREWALL: 'true' }, 'PRESSLUFT_AGENT_FIREWALL'],
    [{ ...base, PRESSLUFT_AGENT_FIREWALL_LOCAL_PORTS: '80;443' }, 'PRESSLUFT_AGENT_FIREWALL_LOCAL_PORTS'],
    [{ ...base, PRESSLUFT_AGENT_FIREWALL_BLOCKED_NETWORKS: '169.254.169.254' }, 'PRESSLUFT_AGENT_FIREWALL_BLOCKED_NETWORKS'],
    [{ ...base, PRESSLUFT_AGENT_REDIS_SOCKET: 'redis.sock' }, 'PRESSLUFT_AGENT_REDIS_SOCKET'],
    [{ ...base, PRESSLUFT_AGENT_REDIS_ADMIN_USER: 'admin pw' }, 'PRESSLUFT_AGENT_REDIS_ADMIN_USER'],
    [{ ...base, PRESSLUFT_AGENT_SITES_TLS_LISTEN: '0.0.0.0:443 ssl; evil' }, 'PRESSLUFT_AGENT_SITES_TLS_LISTEN'],
    [{ ...base, PRESSLUFT_AGENT_HTTPS_PORT: '70000' }, 'PRESSLUFT_AGENT_HTTPS_PORT'],
    [{ ...base, PRESSLUFT_AGENT_HTTPS_PORT: 'https' }, 'PRESSLUFT_AGENT_HTTPS_PORT'],
    [{ ...base, PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL: '127.0.0.1:8055' }, 'PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL'],
    [{ ...base, PRESSLUFT_AGENT_CLOUDFLARE_API_URL: 'ftp://cf.example.test' }, 'PRESSLUFT_AGENT_CLOUDFLARE_API_URL'],
    [{ ...base, PRESSLUFT_AGENT_CLOUDFLARE_API_URL: 'https://user:token@cf.example.test' }, 'PRESSLUFT_AGENT_CLOUDFLARE_API_URL'],
    [{ ...base, PRESSLUFT_AGENT_PUBLIC_ADDRESSES: 'node.example.test' }, 'PRESSLUFT_AGENT_PUBLIC_ADDRESSES'],
    [{ ...base, PRESSLUFT_AGENT_PUBLIC_ADDRESSES: '203.0.113.7;203.0.113.8' }, 'PRESSLUFT_AGENT_PUBLIC_ADDRESSES'],
    [{ ...base, PRESSLUFT_AGENT_PAGE_CACHE_ROOT: 'cache' }, 'PRESSLUFT_AGENT_PAGE_CACHE_ROOT'],
  ])('refuses %j naming %s', (env, setting) => {
    expect(() => loadAgentConfig(env)).toThrow(ConfigError);
    try {
      loadAgentConfig(env);
    } catch (error) {
      expect((error as ConfigError).setting).toBe(setting);
    }
  });
});
