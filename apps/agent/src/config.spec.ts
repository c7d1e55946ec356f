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
    expect(config.host.redis).toBeUndefined();
  });

  it('takes the node\'s Redis socket, with the admin user and its password file', () => {
    expect(loadAgentConfig({ ...base, PRESSLUFT_AGENT_REDIS_SOCKET: '/run/pressluft-redis/redis.sock' }).host.redis).toEqual({
      socket: '/run/pressluft-redis/redis.sock',
      adminUser: 'pressluft-agent',
      adminPasswordFile: '/etc/pressluft/redis-admin-password',
    });
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
    [{ ...base, PRESSLUFT_AGENT_REDIS_SOCKET: 'redis.sock' }, 'PRESSLUFT_AGENT_REDIS_SOCKET'],
    [{ ...base, PRESSLUFT_AGENT_REDIS_ADMIN_USER: 'admin pw' }, 'PRESSLUFT_AGENT_REDIS_ADMIN_USER'],
  ])('refuses %j naming %s', (env, setting) => {
    expect(() => loadAgentConfig(env)).toThrow(ConfigError);
    try {
      loadAgentConfig(env);
    } catch (error) {
      expect((error as ConfigError).setting).toBe(setting);
    }
  });
});
