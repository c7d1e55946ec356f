import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SiteConfig } from '@pressluft/proto';
import { describe, expect, it } from 'vitest';
import { shop } from '../../test/host-fixtures.js';
import { StepError } from './errors.js';
import { compose, DEFAULT_SERVER_FRAGMENTS, planEdge, renderDefaultServers, renderSiteConf, SITE_FRAGMENTS, type InstalledCertificate, type SiteConfInput, type SiteFragments } from './site-conf.js';
import { defaultTemplatesDir, TemplateError } from './template.js';

const load = <K extends string>(names: readonly K[]) => Object.fromEntries(names.map((n) => [n, readFileSync(join(defaultTemplatesDir(), 'nginx', `${n}.conf`), 'utf8')])) as Record<K, string>;
const FRAGMENTS: SiteFragments = load(SITE_FRAGMENTS);
const CERT: InstalledCertificate = { certificate: '/var/lib/pressluft/tls/site_ax9z0k1m/fullchain.pem', privateKey: '/var/lib/pressluft/tls/site_ax9z0k1m/privkey.pem', ocspStapling: false };
const TLS_ON = { mode: 'acme', redirect: true, hstsMaxAgeSeconds: 0, hstsIncludeSubdomains: false, hstsPreload: false };
const CACHE_ON = { redis: false, page: { enabled: true, sizeMib: 512, ttlSeconds: 300 } };

function conf(overrides: Partial<SiteConfig> = {}, input: Partial<SiteConfInput> = {}): string {
  const { plan, paths } = shop(overrides);
  return renderSiteConf(FRAGMENTS, {
    plan,
    edge: planEdge({ tls: overrides.tls, cache: overrides.cache, environment: overrides.environment }),
    paths,
    listen: '127.0.0.1:8081',
    tlsListen: '127.0.0.1:8082',
    httpsPort: 8082,
    acmeChallenges: '/var/lib/pressluft/acme/challenges',
    certificate: CERT,
    ...input,
  });
}

/** The text of the server listening on `listen` (up to the next server or the end). */
function server(text: string, listen: string): string {
  const start = text.indexOf(`listen ${listen}`);
  if (start < 0) return '';
  const next = text.indexOf('\nserver {', start);
  return text.slice(start, next < 0 ? undefined : next);
}

/** The PHP location of a server's text. */
function phpLocation(text: string): string {
  const start = text.indexOf('location ~ \\.php$ {');
  return text.slice(start, text.indexOf('\n    }', start));
}

describe('the HTTP server', () => {
  const block = conf({ tls: TLS_ON });
  const http = server(block, '127.0.0.1:8081;');

  it('serves every domain from current through the site socket', () => {
    const plain = conf({ tls: { ...TLS_ON, mode: 'off' } });
    expect(plain).toContain('listen 127.0.0.1:8081;');
    expect(plain).toContain('server_name shop.example.test www.shop.example.test;');
    expect(plain).toContain('root /var/www/sites/shop/current;');
    expect(plain).toContain('fastcgi_pass unix:/var/lib/pressluft/sock/site_ax9z0k1m/php.sock;');
    expect(plain).toContain('fastcgi_param SCRIPT_FILENAME   $realpath_root$pressluft_script;');
    // The front page goes to index.php without file checks; every other .php only if it exists.
    expect(plain).toMatch(/location = \/ \{\n\s+set \$pressluft_script \/index\.php;\n\s+# A PHP location's body/);
    expect(plain).toMatch(/location ~ \\\.php\$ \{\n(\s+#.*\n)*\s+try_files \$uri =404;\n\s+set \$pressluft_script \$fastcgi_script_name;/);
    expect(plain).toContain('client_max_body_size 65m;');
    expect(plain).toContain('try_files $uri $uri/ /index.php?$args;');
    expect(plain).not.toMatch(/# @[a-z_]+\n/);
  });

  it('answers ACME challenges over HTTP before anything else, also when it redirects', () => {
    expect(http).toContain('location ^~ /.well-known/acme-challenge/ {\n        alias /var/lib/pressluft/acme/challenges/;');
    expect(http.indexOf('acme-challenge')).toBeLessThan(http.indexOf('return 301'));
  });

  it('never hands uploads or wp-config.php to PHP, and serves uploads with nosniff', () => {
    const plain = conf({ tls: { ...TLS_ON, mode: 'off' } });
    expect(plain).toContain('location ~* /wp-config\\.php { deny all; }');
    const uploads = plain.slice(plain.indexOf('location ^~ /wp-content/uploads/'));
    expect(uploads.slice(0, uploads.indexOf('\n    }'))).not.toContain('fastcgi_pass');
    expect(uploads.slice(0, uploads.indexOf('\n    }'))).toContain('add_header X-Content-Type-Options nosniff always;');
    expect(plain.indexOf('^~ /wp-content/uploads/')).toBeLessThan(plain.indexOf('location ~ \\.php$'));
  });

  it.each([
    ['off by default', false, 'off'],
    ['on when the site opts in', true, 'on'],
  ])('xmlrpc.php: %s', (_what, xmlrpc, rendered) => {
    const rendering = conf({ wordpress: { version: '6.1', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc } });
    expect(rendering).toContain(`set $pressluft_xmlrpc "${rendered}:$uri";`);
    expect(rendering).toContain('if ($pressluft_xmlrpc = "off:/xmlrpc.php") { return 403; }');
  });
});

describe('HTTPS and the redirect', () => {
  it.each<[string, Partial<SiteConfig>, Partial<SiteConfInput>, { https: boolean; redirect: boolean }]>([
    ['acme with a certificate, redirect on', { tls: TLS_ON }, {}, { https: true, redirect: true }],
    ['custom with a certificate', { tls: { ...TLS_ON, mode: 'custom' } }, {}, { https: true, redirect: true }],
    ['redirect off: both serve', { tls: { ...TLS_ON, redirect: false } }, {}, { https: true, redirect: false }],
    ['no certificate yet: HTTP serves, no redirect', { tls: TLS_ON }, { certificate: undefined }, { https: false, redirect: false }],
    ['mode off with a certificate on disk', { tls: { ...TLS_ON, mode: 'off' } }, {}, { https: false, redirect: false }],
    ['no tls config', {}, {}, { https: false, redirect: false }],
    ['no TLS listen on the node', { tls: TLS_ON }, { tlsListen: undefined }, { https: false, redirect: false }],
  ])('%s', (_what, site, input, expected) => {
    const block = conf(site, input);
    const http = server(block, '127.0.0.1:8081;');
    expect(block.includes('listen 127.0.0.1:8082 ssl http2;')).toBe(expected.https);
    expect(http.includes('return 301 https://$host:8082$request_uri;')).toBe(expected.redirect);
    // Redirecting or not, HTTP never serves PHP while it redirects, and always when it does not.
    expect(http.includes('fastcgi_pass')).toBe(!expected.redirect);
  });

  it('serves the certificate with modern TLS only', () => {
    const tls = server(conf({ tls: TLS_ON }), '127.0.0.1:8082 ssl http2;');
    expect(tls).toContain('server_name shop.example.test www.shop.example.test;');
    expect(tls).toContain(`ssl_certificate ${CERT.certificate};`);
    expect(tls).toContain(`ssl_certificate_key ${CERT.privateKey};`);
    expect(tls).toContain('ssl_protocols TLSv1.2 TLSv1.3;');
    expect(tls).toContain('ssl_session_cache shared:pressluft_tls:10m;');
    expect(tls).toContain('ssl_session_tickets off;');
    expect(tls).toContain('fastcgi_pass unix:/var/lib/pressluft/sock/site_ax9z0k1m/php.sock;');
    expect(tls).not.toContain('acme-challenge');
  });

  it('names no port in the redirect on 443', () => {
    expect(conf({ tls: TLS_ON }, { httpsPort: 443 })).toContain('return 301 https://$host$request_uri;');
  });

  it.each([
    [true, true],
    [false, false],
  ])('OCSP stapling when the certificate says %s', (ocsp, stapled) => {
    const block = conf({ tls: TLS_ON }, { certificate: { ...CERT, ocspStapling: ocsp } });
    expect(block.includes('ssl_stapling on;\n    ssl_stapling_verify on;')).toBe(stapled);
  });

  it.each<[string, Partial<typeof TLS_ON>, string]>([
    ['none by default', {}, ''],
    ['max-age only', { hstsMaxAgeSeconds: 31_536_000 }, 'max-age=31536000'],
    ['with subdomains', { hstsMaxAgeSeconds: 600, hstsIncludeSubdomains: true }, 'max-age=600; includeSubDomains'],
    ['preload', { hstsMaxAgeSeconds: 63_072_000, hstsIncludeSubdomains: true, hstsPreload: true }, 'max-age=63072000; includeSubDomains; preload'],
  ])('HSTS: %s, on HTTPS answers only', (_what, hsts, value) => {
    const block = conf({ tls: { ...TLS_ON, ...hsts } });
    const tls = server(block, '127.0.0.1:8082 ssl http2;');
    expect(tls).toContain(`set $pressluft_hsts "${value}";`);
    expect(server(block, '127.0.0.1:8081;')).toContain('set $pressluft_hsts "";');
    // Every location with add_header of its own repeats it (nginx does not inherit add_header then).
    expect(tls.match(/add_header Strict-Transport-Security \$pressluft_hsts always;/g)).toHaveLength(4);
  });

  it('refuses HSTS beyond two years and unknown modes', () => {
    expect(() => planEdge({ tls: { ...TLS_ON, hstsMaxAgeSeconds: 63_072_001 } })).toThrow(StepError);
    expect(() => planEdge({ tls: { ...TLS_ON, mode: 'sometimes' } })).toThrow(StepError);
  });
});

describe('the page cache', () => {
  const block = conf({ cache: CACHE_ON });
  const php = phpLocation(server(block, '127.0.0.1:8081;'));

  it('has its own zone and directory at http level, above the servers', () => {
    expect(block.indexOf('fastcgi_cache_path /var/lib/pressluft/page-cache/site_ax9z0k1m levels=1:2 keys_zone=site_ax9z0k1m:2m max_size=512m inactive=3600s use_temp_path=off;')).toBeGreaterThanOrEqual(0);
    expect(block.indexOf('fastcgi_cache_path')).toBeLessThan(block.indexOf('server {'));
    expect(block.match(/fastcgi_cache_path/g)).toHaveLength(1);
  });

  it('caches PHP answers by scheme, method, host and URI, for the TTL; 404s for a minute', () => {
    expect(php).toContain('fastcgi_cache site_ax9z0k1m;');
    expect(php).toContain('fastcgi_cache_key $scheme$request_method$host$request_uri;');
    expect(php).toContain('fastcgi_cache_valid 200 301 300s;');
    expect(php).toContain('fastcgi_cache_valid 404 1m;');
    expect(php).toContain('fastcgi_cache_lock on;');
    expect(php).toContain('fastcgi_cache_use_stale error timeout updating');
    expect(php).toContain('add_header X-Pressluft-Cache $upstream_cache_status;');
    expect(php).not.toContain('fastcgi_ignore_headers');
  });

  it('bypasses and never stores what it must not', () => {
    expect(php).toContain('fastcgi_cache_bypass $pressluft_no_cache;');
    expect(php).toContain('fastcgi_no_cache $pressluft_no_cache;');
  });

  // Each rule as nginx would evaluate it: the regexes of the rendered `if`s, applied here.
  const rules = [...block.matchAll(/if \(\$(\w+) (!~|~\*|!=) "?(.*?)"?\) \{ set \$pressluft_no_cache 1; \}/g)].map(([, variable, op, pattern]) => ({ variable, op, pattern: pattern ?? '' }));
  const skipped = (request: { method?: string; uri?: string; args?: string; cookie?: string }) =>
    rules.some(({ variable, op, pattern }) => {
      const value = { request_method: request.method ?? 'GET', args: request.args ?? '', http_cookie: request.cookie ?? '', request_uri: request.uri ?? '/', uri: request.uri ?? '/' }[variable ?? ''] ?? '';
      if (op === '!=') return value !== pattern;
      const matches = new RegExp(pattern, op === '~*' ? 'i' : '').test(value);
      return op === '!~' ? !matches : matches;
    });

  it.each([
    ['an anonymous GET', {}, false],
    ['a HEAD', { method: 'HEAD' }, false],
    ['a page below the root', { uri: '/hello-world/' }, false],
    ['a POST', { method: 'POST' }, true],
    ['a PUT', { method: 'PUT' }, true],
    ['a query string', { args: 's=x' }, true],
    ['a logged-in user', { cookie: 'wordpress_logged_in_abc=admin' }, true],
    ['a comment author', { cookie: 'x=1; comment_author_abc=Jo' }, true],
    ['a password-protected post', { cookie: 'wp-postpass_abc=x' }, true],
    ['a cart', { cookie: 'woocommerce_items_in_cart=1' }, true],
    ['a cart hash', { cookie: 'woocommerce_cart_hash=1' }, true],
    ['a shop session', { cookie: 'wp_woocommerce_session_abc=1' }, true],
    ['an unrelated cookie', { cookie: 'theme=dark' }, false],
    ['/wp-admin/', { uri: '/wp-admin/edit.php' }, true],
    ['/wp-login.php', { uri: '/wp-login.php' }, true],
    ['/wp-json/', { uri: '/wp-json/wp/v2/posts' }, true],
    ['xmlrpc.php', { uri: '/xmlrpc.php' }, true],
    ['wp-cron.php', { uri: '/wp-cron.php' }, true],
    ['/cart/', { uri: '/cart/' }, true],
    ['/checkout/', { uri: '/checkout/' }, true],
    ['/my-account/', { uri: '/my-account/orders/' }, true],
  ])('%s: bypassed %s', (_what, request, bypassed) => {
    expect(rules.length).toBeGreaterThanOrEqual(5);
    expect(skipped(request)).toBe(bypassed);
  });

  it('strips the headers that could poison a cached page', () => {
    for (const header of ['HTTP_X_FORWARDED_HOST', 'HTTP_X_FORWARDED_PROTO', 'HTTP_X_ORIGINAL_URL', 'HTTP_FORWARDED']) expect(php).toMatch(new RegExp(`fastcgi_param ${header} +"";`));
    expect(php).toMatch(/fastcgi_param HTTP_HOST +\$host;/);
  });

  it('is in both servers when HTTPS serves', () => {
    const both = conf({ cache: CACHE_ON, tls: { ...TLS_ON, redirect: false } });
    expect(phpLocation(server(both, '127.0.0.1:8082 ssl http2;'))).toContain('fastcgi_cache site_ax9z0k1m;');
    expect(phpLocation(server(both, '127.0.0.1:8081;'))).toContain('fastcgi_cache site_ax9z0k1m;');
  });

  it.each<[string, Partial<SiteConfig>]>([
    ['no cache config (a staging site: the control plane sends none)', {}],
    ['disabled', { cache: { redis: false, page: { enabled: false, sizeMib: 256, ttlSeconds: 600 } } }],
  ])('off: %s: no zone, no rules, no header', (_what, site) => {
    const off = conf(site);
    expect(off).not.toContain('fastcgi_cache');
    expect(off).not.toContain('pressluft_no_cache');
    expect(off).not.toContain('X-Pressluft-Cache');
    // PHP gets the host without the client's port either way (WordPress compares it with its home URL).
    expect(off).toMatch(/fastcgi_param HTTP_HOST +\$host;/);
  });

  it('defaults size and TTL, and refuses them out of range', () => {
    expect(planEdge({ cache: { redis: false, page: { enabled: true, sizeMib: 0, ttlSeconds: 0 } } }).pageCache).toEqual({ sizeMib: 256, ttlSeconds: 600 });
    expect(() => planEdge({ cache: { redis: false, page: { enabled: true, sizeMib: 8, ttlSeconds: 600 } } })).toThrow(StepError);
    expect(() => planEdge({ cache: { redis: false, page: { enabled: true, sizeMib: 256, ttlSeconds: 5 } } })).toThrow(StepError);
  });
});

describe('a staging site', () => {
  const ROBOTS = 'add_header X-Robots-Tag "noindex, nofollow" always;';
  /** The location block of a server's text that starts with `opening`. */
  const location = (text: string, opening: string) => {
    const start = text.indexOf(opening);
    return start < 0 ? '' : text.slice(start, text.indexOf('\n    }', start));
  };

  it.each<[string, Partial<SiteConfig>]>([
    ['HTTP only', { tls: { ...TLS_ON, mode: 'off' } }],
    ['HTTPS, HTTP redirecting', { tls: TLS_ON }],
    ['HTTPS and HTTP both serving, with the page cache', { tls: { ...TLS_ON, redirect: false }, cache: CACHE_ON }],
  ])('says noindex, nofollow on every answer of every server: %s', (_what, site) => {
    const block = conf({ ...site, environment: 'staging' });
    const servers = block.split(/\nserver \{/).slice(1);
    expect(servers.length).toBeGreaterThan(0);
    for (const text of servers) {
      // At server level (the ACME challenges, a redirect, wp-config.php's deny inherit it) ...
      expect(text.slice(0, text.indexOf('\n    location '))).toContain(`    ${ROBOTS}`);
      // ... and repeated in each location with add_header of its own (nginx does not inherit then).
      for (const opening of ['location ^~ /wp-content/uploads/', 'location ~ \\.php$ {']) {
        const found = location(text, opening);
        if (found !== '') expect(found).toContain(`        ${ROBOTS}`);
      }
    }
    expect(block).not.toMatch(/# @[a-z_]+\n/);
  });

  it('a production site says nothing of robots, and renders as before the fragment existed', () => {
    for (const site of [{}, { tls: TLS_ON, cache: CACHE_ON }]) {
      const block = conf({ ...site, environment: 'production' });
      expect(block).not.toContain('X-Robots-Tag');
      expect(block).toBe(conf(site));
    }
  });
});

describe('escaping', () => {
  it.each<[string, Partial<SiteConfInput>]>([
    ['listen', { listen: '80; include /etc/passwd' }],
    ['TLS listen', { tlsListen: '443 ssl; include /etc/passwd' }],
    ['certificate path', { certificate: { ...CERT, certificate: '/x.pem; include /etc/passwd' } }],
    ['ACME directory', { acmeChallenges: '/x/ { return 200 "$host" }' }],
  ])('refuses a %s that would inject directives', (_what, input) => {
    expect(() => conf({ tls: TLS_ON }, input)).toThrow(TemplateError);
  });

  it('composes only known parts into known markers', () => {
    expect(compose('a\n    # @x\nb\n', { x: '  X\n' }, 't')).toBe('a\n  X\nb\n');
    expect(() => compose('# @x\n', {}, 't')).toThrow(TemplateError);
    expect(() => compose('a\n', { x: '' }, 't')).toThrow(TemplateError);
  });
});

describe('the default servers', () => {
  const fragments = load(DEFAULT_SERVER_FRAGMENTS);

  it('closes unknown hosts on HTTP, refuses unknown SNI on the TLS listen only when there is one', () => {
    const both = renderDefaultServers(fragments, '127.0.0.1:8081', '127.0.0.1:8082');
    expect(both).toContain('listen 127.0.0.1:8081 default_server;');
    expect(both).toContain('return 444;');
    expect(both).toContain('listen 127.0.0.1:8082 ssl http2 default_server;');
    expect(both).toContain('ssl_reject_handshake on;');
    const plain = renderDefaultServers(fragments, '127.0.0.1:8081', undefined);
    expect(plain).not.toContain('ssl_reject_handshake');
    expect(plain).not.toContain(' ssl ');
    expect(() => renderDefaultServers(fragments, '80; include /etc/passwd', undefined)).toThrow(TemplateError);
  });
});
