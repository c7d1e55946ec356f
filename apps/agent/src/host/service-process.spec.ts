import { describe, expect, it } from 'vitest';
import { isNginxMaster, isRedisServer } from './service-process.js';

describe('service process names', () => {
  it.each([
    ['nginx: master process /usr/sbin/nginx -p /x -c /x/nginx.conf', true, false],
    ['nginx: worker process', false, false],
    ['/usr/bin/redis-server unixsocket:/run/redis/redis.sock', false, true],
    ['redis-server *:6379', false, true],
    ['/usr/bin/redis-server\0/etc/redis/redis.conf\0', false, true],
    ['/usr/bin/redis-serverx', false, false],
    ['/usr/bin/redis-cli\0PING', false, false],
    ['php-fpm: pool site_abc', false, false],
  ])('%j: nginx master %s, redis %s', (cmdline, nginx, redis) => {
    expect(isNginxMaster(cmdline)).toBe(nginx);
    expect(isRedisServer(cmdline)).toBe(redis);
  });
});
