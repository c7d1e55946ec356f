import { describe, expect, it } from 'vitest';
import { defaultServerFile, listenTarget, nginxReloadArgv, nginxTestArgv } from './nginx.js';

describe('nginx argv and files', () => {
  it('builds the argv', () => {
    expect(nginxTestArgv(['/usr/sbin/nginx', '-p', '/p'])).toEqual(['/usr/sbin/nginx', '-p', '/p', '-t', '-q']);
    expect(nginxReloadArgv(['/usr/sbin/nginx'])).toEqual(['/usr/sbin/nginx', '-s', 'reload']);
  });

  it('keeps the default server beside the site blocks under a name no site block has', () => {
    expect(defaultServerFile('/etc/nginx/pressluft')).toBe('/etc/nginx/pressluft/default-server.conf');
  });
});

describe('listenTarget', () => {
  it.each([
    ['127.0.0.1:8081', { host: '127.0.0.1', port: 8081 }],
    ['80', { host: '127.0.0.1', port: 80 }],
    ['*:80', { host: '127.0.0.1', port: 80 }],
    ['0.0.0.0:8080', { host: '127.0.0.1', port: 8080 }],
    ['[::]:80', { host: '::1', port: 80 }],
    ['[::1]:8081', { host: '::1', port: 8081 }],
  ])('%s', (listen, target) => {
    expect(listenTarget(listen)).toEqual(target);
  });

  it('refuses what it cannot reach', () => {
    expect(() => listenTarget('unix:/x.sock')).toThrow();
    expect(() => listenTarget('127.0.0.1:0')).toThrow();
  });
});
