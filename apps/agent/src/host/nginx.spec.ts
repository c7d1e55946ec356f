import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shop } from '../../test/host-fixtures.js';
import { defaultServerFile, listenTarget, nginxReloadArgv, nginxTestArgv, renderDefaultServer, renderServerBlock } from './nginx.js';
import { defaultTemplatesDir, TemplateError } from './template.js';

const template = readFileSync(join(defaultTemplatesDir(), 'nginx/site.conf'), 'utf8');

describe('nginx server block', () => {
  const { plan, paths } = shop();
  const block = renderServerBlock(template, plan, paths, '127.0.0.1:8081', '/var/lib/pressluft/acme/challenges');

  it('serves every domain from current through the site socket', () => {
    expect(block).toContain('listen 127.0.0.1:8081;');
    expect(block).toContain('server_name shop.example.test www.shop.example.test;');
    expect(block).toContain('root /var/www/sites/shop/current;');
    expect(block).toContain('fastcgi_pass unix:/var/lib/pressluft/sock/site_ax9z0k1m/php.sock;');
    expect(block).toContain('fastcgi_param SCRIPT_FILENAME   $realpath_root$fastcgi_script_name;');
    expect(block).toContain('fastcgi_param DOCUMENT_ROOT     $realpath_root;');
    expect(block).toContain('client_max_body_size 65m;');
    expect(block).toContain('try_files $uri $uri/ /index.php?$args;');
  });

  it('never hands uploads or wp-config.php to PHP', () => {
    expect(block).toContain('location ~* /wp-config\\.php { deny all; }');
    const uploads = block.slice(block.indexOf('location ^~ /wp-content/uploads/'));
    expect(uploads.slice(0, uploads.indexOf('\n    }'))).not.toContain('fastcgi_pass');
    expect(uploads).toContain('deny all;');
    // the uploads location comes before the PHP one and wins over it (^~)
    expect(block.indexOf('^~ /wp-content/uploads/')).toBeLessThan(block.indexOf('location ~ \\.php$'));
  });

  it('refuses a listen value that would inject directives', () => {
    expect(() => renderServerBlock(template, plan, paths, '80; include /etc/passwd', '/var/lib/pressluft/acme/challenges')).toThrow(TemplateError);
  });

  it('serves uploads with nosniff', () => {
    const uploads = block.slice(block.indexOf('location ^~ /wp-content/uploads/'));
    expect(uploads.slice(0, uploads.indexOf('\n    }'))).toContain('add_header X-Content-Type-Options nosniff always;');
  });

  it.each([
    ['off by default', false, 'off'],
    ['on when the site opts in', true, 'on'],
  ])('xmlrpc.php: %s', (_what, xmlrpc, rendered) => {
    const { plan: site } = shop({ wordpress: { version: '6.1', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc } });
    const rendering = renderServerBlock(template, site, paths, '127.0.0.1:8081', '/var/lib/pressluft/acme/challenges');
    expect(rendering).toContain(`set $pressluft_xmlrpc "${rendered}:$uri";`);
    expect(rendering).toContain('if ($pressluft_xmlrpc = "off:/xmlrpc.php") { return 403; }');
  });

  it('builds the argv', () => {
    expect(nginxTestArgv(['/usr/sbin/nginx', '-p', '/p'])).toEqual(['/usr/sbin/nginx', '-p', '/p', '-t', '-q']);
    expect(nginxReloadArgv(['/usr/sbin/nginx'])).toEqual(['/usr/sbin/nginx', '-s', 'reload']);
  });
});

describe('nginx default server', () => {
  const fallback = renderDefaultServer(readFileSync(join(defaultTemplatesDir(), 'nginx/default-server.conf'), 'utf8'), '127.0.0.1:8081');

  it('closes a request for a host no site claims (444) on the node listen address', () => {
    expect(fallback).toContain('listen 127.0.0.1:8081 default_server;');
    expect(fallback).toContain('return 444;');
    expect(fallback).not.toContain('fastcgi_pass');
    expect(() => renderDefaultServer('listen {{listen}};', '80; include /etc/passwd')).toThrow(TemplateError);
  });

  it('lives beside the site blocks under a name no site block has', () => {
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
