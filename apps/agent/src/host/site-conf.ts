import type { SiteConfig } from '@pressluft/proto';
import { StepError } from './errors.js';
import type { SitePaths, SitePlan } from './naming.js';
import { nginxValue, renderTemplate, TemplateError, type Escaper, type TemplateValue } from './template.js';

/** How the site is served at the edge (spec.tls, spec.cache.page), checked on the node. */
export interface EdgePlan {
  /** spec.tls.mode is acme or custom: HTTPS is served once the node holds a certificate. */
  readonly https: boolean;
  readonly redirect: boolean;
  /** The Strict-Transport-Security value on HTTPS answers; undefined: none. */
  readonly hsts: string | undefined;
  /** The site's own nginx page cache; undefined: off. */
  readonly pageCache: { readonly sizeMib: number; readonly ttlSeconds: number } | undefined;
  /** A staging site: every answer carries X-Robots-Tag: noindex, nofollow (site-robots.conf). */
  readonly noindex: boolean;
}

const DEFAULT_PAGE_CACHE = { sizeMib: 256, ttlSeconds: 600 };
const HSTS_MAX_AGE_LIMIT = 63_072_000;

function invalid(message: string): StepError {
  return new StepError('validate', 'InvalidSite', message);
}

function bounded(value: number, fallback: number, min: number, max: number, field: string): number {
  const v = value === 0 ? fallback : value;
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(`${field} must be an integer between ${min} and ${max}, got ${v}`);
  return v;
}

/** spec.tls, spec.cache.page and the environment as the node applies them (never trusting the wire). Pure. */
export function planEdge(site: Pick<SiteConfig, 'tls' | 'cache'> & Partial<Pick<SiteConfig, 'environment'>>): EdgePlan {
  const tls = site.tls;
  const mode = tls?.mode ?? 'off';
  if (!['acme', 'custom', 'off', ''].includes(mode)) throw invalid(`tls.mode ${JSON.stringify(mode)} is not acme, custom or off`);
  const https = mode === 'acme' || mode === 'custom';
  let hsts: string | undefined;
  if (https && tls && tls.hstsMaxAgeSeconds > 0) {
    const maxAge = bounded(tls.hstsMaxAgeSeconds, 0, 1, HSTS_MAX_AGE_LIMIT, 'tls.hstsMaxAgeSeconds');
    hsts = [`max-age=${maxAge}`, ...(tls.hstsIncludeSubdomains ? ['includeSubDomains'] : []), ...(tls.hstsPreload ? ['preload'] : [])].join('; ');
  }
  const page = site.cache?.page;
  return {
    https,
    redirect: https && tls?.redirect === true,
    hsts,
    pageCache: page?.enabled
      ? {
          sizeMib: bounded(page.sizeMib, DEFAULT_PAGE_CACHE.sizeMib, 16, 64 * 1024, 'cache.page.sizeMib'),
          ttlSeconds: bounded(page.ttlSeconds, DEFAULT_PAGE_CACHE.ttlSeconds, 10, 7 * 24 * 3600, 'cache.page.ttlSeconds'),
        }
      : undefined,
    noindex: site.environment === 'staging',
  };
}

/** The fragments a site's conf file is composed of (templates/nginx/<name>.conf). */
export const SITE_FRAGMENTS = ['site', 'site-locations', 'site-php', 'site-redirect', 'site-tls', 'site-tls-stapling', 'page-cache-zone', 'page-cache-rules', 'page-cache-php', 'site-robots'] as const;
export type SiteFragments = Readonly<Record<(typeof SITE_FRAGMENTS)[number], string>>;

export const DEFAULT_SERVER_FRAGMENTS = ['default-server', 'default-server-tls'] as const;
export type DefaultServerFragments = Readonly<Record<(typeof DEFAULT_SERVER_FRAGMENTS)[number], string>>;

/** The certificate the node holds for the site (written by IssueCertificate), as the block needs it. */
export interface InstalledCertificate {
  readonly certificate: string;
  readonly privateKey: string;
  /** certificate.json's ocspStapling: the certificate names an OCSP responder. */
  readonly ocspStapling: boolean;
}

export interface SiteConfInput {
  readonly plan: SitePlan;
  readonly edge: EdgePlan;
  readonly paths: SitePaths;
  /** settings.nginx.listen */
  readonly listen: string;
  /** settings.nginx.tlsListen; undefined: the node serves HTTP only. */
  readonly tlsListen: string | undefined;
  /** The port clients reach HTTPS on (redirects name it unless 443). */
  readonly httpsPort: number;
  readonly acmeChallenges: string;
  /** undefined: the node holds no (complete) certificate for the site. */
  readonly certificate: InstalledCertificate | undefined;
}

const MARKER = /^[ \t]*# @([a-z_]+)\n/gm;

/**
 * `template` with each of its `# @name` lines replaced by `parts[name]` ('' removes the line). A
 * marker without a part and a part without a marker are both errors, as in renderTemplate. Pure.
 */
export function compose(template: string, parts: Readonly<Record<string, string>>, label: string): string {
  const used = new Set<string>();
  const out = template.replace(MARKER, (_line, name: string) => {
    if (!Object.hasOwn(parts, name)) throw new TemplateError(`${label}: no part for the marker # @${name}`);
    used.add(name);
    return parts[name] ?? '';
  });
  const unused = Object.keys(parts).filter((name) => !used.has(name));
  if (unused.length > 0) throw new TemplateError(`${label}: parts without a marker: ${unused.join(', ')}`);
  return out;
}

/** nginxValue, but for the few placeholders whose checked value may be empty or hold spaces and `;`. */
function escaperWith(special: Readonly<Record<string, RegExp>>): Escaper {
  return (value, placeholder) => {
    const pattern = special[placeholder];
    if (pattern === undefined) return nginxValue(value, placeholder);
    if (!pattern.test(value)) throw new TemplateError(`{{${placeholder}}}: ${JSON.stringify(value)} is not allowed here`);
    return value;
  };
}

const HSTS_PATTERN = /^(max-age=\d{1,9}(; includeSubDomains)?(; preload)?)?$/;
const PORT_SUFFIX_PATTERN = /^(:\d{1,5})?$/;

function render(template: string, values: Readonly<Record<string, TemplateValue>>, label: string, escape: Escaper = nginxValue): string {
  return renderTemplate(template, values, escape, label);
}

/**
 * The site's conf file (included inside http {}): its page cache zone when the cache is on; the
 * HTTP server, which serves the site, or (spec.tls.redirect, with a certificate) redirects all but
 * ACME's challenges to HTTPS; the HTTPS server when the site's TLS mode serves one, the node has
 * a TLS listen address and holds the certificate. Every value is escaped. Pure.
 */
export function renderSiteConf(fragments: SiteFragments, input: SiteConfInput): string {
  const { plan, edge, paths } = input;
  const zone = plan.account;
  const cache = edge.pageCache;
  const robots = edge.noindex ? render(fragments['site-robots'], {}, 'site-robots.conf') : '';
  // Inside a location: one level deeper.
  const robotsInLocation = robots.replace(/^(?=.)/gm, '    ');
  const locations = (): string => {
    const rules = cache ? render(fragments['page-cache-rules'], {}, 'page-cache-rules.conf') : '';
    const cachePhp = cache ? render(fragments['page-cache-php'], { zone, ttl: `${cache.ttlSeconds}s` }, 'page-cache-php.conf') : '';
    // One body for both PHP locations (the front page's and every .php file's).
    const php = compose(render(fragments['site-php'], { fpm_socket: paths.fpmSocket }, 'site-php.conf'), { cache_php: cachePhp, robots: robotsInLocation }, 'site-php.conf');
    const body = render(
      fragments['site-locations'],
      {
        site_current: paths.current,
        // The upload plus the rest of the form, as post_max_size.
        body_max: `${plan.php.uploadMaxMb + 1}m`,
        xmlrpc: plan.wordpress.xmlrpc ? 'on' : 'off',
      },
      'site-locations.conf',
    );
    return compose(body, { cache_rules: rules, php, robots: robotsInLocation }, 'site-locations.conf');
  };
  const https = edge.https && input.tlsListen !== undefined && input.certificate !== undefined ? { listen: input.tlsListen, certificate: input.certificate } : undefined;
  const serveHttp = https && edge.redirect
    ? render(fragments['site-redirect'], { https_port: input.httpsPort === 443 ? '' : `:${input.httpsPort}` }, 'site-redirect.conf', escaperWith({ https_port: PORT_SUFFIX_PATTERN }))
    : locations();
  const http = compose(
    render(fragments.site, { site: plan.name, listen: input.listen, server_names: plan.domains, acme_challenges: input.acmeChallenges }, 'site.conf'),
    { serve: serveHttp, robots },
    'site.conf',
  );
  const zoneConf = cache
    ? render(
        fragments['page-cache-zone'],
        {
          site: plan.name,
          cache_dir: paths.pageCacheDir,
          zone,
          // About 8000 keys per megabyte: one per 256 MiB of pages is plenty.
          keys_size: `${Math.max(1, Math.ceil(cache.sizeMib / 256))}m`,
          max_size: `${cache.sizeMib}m`,
          inactive: `${Math.max(cache.ttlSeconds, 3600)}s`,
        },
        'page-cache-zone.conf',
      )
    : '';
  if (!https) return zoneConf + http;
  const { certificate } = https;
  const tls = compose(
    render(
      fragments['site-tls'],
      { tls_listen: https.listen, server_names: plan.domains, certificate: certificate.certificate, private_key: certificate.privateKey, hsts: edge.hsts ?? '' },
      'site-tls.conf',
      escaperWith({ hsts: HSTS_PATTERN }),
    ),
    { stapling: certificate.ocspStapling ? render(fragments['site-tls-stapling'], {}, 'site-tls-stapling.conf') : '', serve: locations(), robots },
    'site-tls.conf',
  );
  return zoneConf + http + tls;
}

/** The node's default servers: unknown hosts closed (444) on the HTTP listen, unknown SNI names refused on the TLS one (when set). Pure. */
export function renderDefaultServers(fragments: DefaultServerFragments, listen: string, tlsListen: string | undefined): string {
  const http = render(fragments['default-server'], { listen }, 'default-server.conf');
  return tlsListen === undefined ? http : http + render(fragments['default-server-tls'], { tls_listen: tlsListen }, 'default-server-tls.conf');
}
