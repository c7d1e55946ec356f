import { join } from 'node:path';
import type { SiteConfig } from '@pressluft/proto';
import { StepError } from './errors.js';
import type { HostSettings } from './settings.js';

/** A Kubernetes DNS label, as the control plane validates site names (re-checked on the node). */
export const SITE_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** SiteConfig.id: 8 base-36 characters derived from the site's uid. */
export const SITE_ID_PATTERN = /^[0-9a-z]{8}$/;
const DOMAIN_PATTERN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
const ADMIN_USER_PATTERN = /^[A-Za-z0-9._@-]{1,60}$/;
const EMAIL_PATTERN = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}$/;
// C0 controls and DEL: never in a title passed on argv.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A SiteConfig checked and completed with the node's defaults: what every step works from. */
export interface SitePlan {
  readonly name: string;
  readonly id: string;
  /** Linux user and group, MariaDB database and user: `site_<id>`. */
  readonly account: string;
  readonly domains: readonly string[];
  readonly php: { readonly memoryLimitMb: number; readonly maxChildren: number; readonly uploadMaxMb: number };
  readonly wordpress: { readonly title: string; readonly adminUser: string; readonly adminEmail: string; readonly xmlrpc: boolean };
  readonly resources: { readonly cpuPercent: number; readonly memoryMib: number };
  /** spec.cache.redis: the site's own Redis ACL user and the WP_REDIS_* constants in wp-config.php. */
  readonly cache: { readonly redis: boolean };
}

function invalid(message: string): StepError {
  return new StepError('validate', 'InvalidSite', message);
}

export function checkName(name: string): string {
  if (!SITE_NAME_PATTERN.test(name)) throw invalid(`site name ${JSON.stringify(name)} is not a DNS label`);
  return name;
}

export function checkId(id: string): string {
  if (!SITE_ID_PATTERN.test(id)) throw invalid(`site id ${JSON.stringify(id)} is not 8 characters [0-9a-z]`);
  return id;
}

/** `site_<id>`: the Linux user and group, and the MariaDB database and user, of a site. */
export function accountName(id: string): string {
  return `site_${checkId(id)}`;
}

function positive(value: number | undefined, fallback: number, min: number, max: number, field: string): number {
  const v = value === undefined || value === 0 ? fallback : value;
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(`${field} must be an integer between ${min} and ${max}, got ${v}`);
  return v;
}

/** Validates a SiteConfig on the node (never trust the wire) and fills the defaults the control plane would. */
export function planSite(site: SiteConfig): SitePlan {
  const name = checkName(site.name);
  const id = checkId(site.id);
  if (site.domains.length === 0) throw invalid('a site needs at least one domain');
  for (const domain of site.domains) if (!DOMAIN_PATTERN.test(domain)) throw invalid(`domain ${JSON.stringify(domain)} is not a lowercase DNS name`);
  const wp = site.wordpress;
  const title = wp?.title || name;
  if (title.length > 200 || CONTROL_CHARACTERS.test(title)) throw invalid('wordpress.title must be at most 200 characters without control characters');
  const adminUser = wp?.adminUser || 'admin';
  if (!ADMIN_USER_PATTERN.test(adminUser)) throw invalid(`wordpress.adminUser ${JSON.stringify(adminUser)} may only hold letters, digits and . _ @ -`);
  const adminEmail = wp?.adminEmail ?? '';
  if (!EMAIL_PATTERN.test(adminEmail)) throw invalid(`wordpress.adminEmail ${JSON.stringify(adminEmail)} is not an email address`);
  return {
    name,
    id,
    account: accountName(id),
    domains: [...new Set(site.domains)],
    php: {
      memoryLimitMb: positive(site.php?.memoryLimitMb, 256, 32, 4096, 'php.memoryLimitMb'),
      maxChildren: positive(site.php?.maxChildren, 5, 1, 200, 'php.maxChildren'),
      uploadMaxMb: positive(site.php?.uploadMaxMb, 64, 1, 4096, 'php.uploadMaxMb'),
    },
    wordpress: { title, adminUser, adminEmail, xmlrpc: wp?.xmlrpc === true },
    resources: {
      cpuPercent: positive(site.resources?.cpuPercent, 100, 1, 800, 'resources.cpuPercent'),
      memoryMib: positive(site.resources?.memoryMib, 512, 64, 64 * 1024, 'resources.memoryMib'),
    },
    cache: { redis: site.cache?.redis === true },
  };
}

/** Every path of one site on a node. */
export interface SitePaths {
  readonly name: string;
  /** <sitesRoot>/<name>: site user, group of the nginx user, 0750. */
  readonly root: string;
  /** <sitesRoot>/.build: root's, 0700; releases are built and trees removed here, out of every tenant's reach (same filesystem as the sites). */
  readonly buildArea: string;
  readonly releases: string;
  /** Symlink to releases/<ts>; nginx's root and WP-CLI's --path. */
  readonly current: string;
  readonly shared: string;
  readonly wpConfig: string;
  readonly uploads: string;
  /** PHP's upload_tmp_dir, session.save_path, sys_temp_dir; WP-CLI's HOME. */
  readonly tmp: string;
  /** PHP's error_log (written by the pool's workers as the site user). */
  readonly logs: string;
  /** <stateDir>/sites/<name>: root-only secrets and the site's identity. */
  readonly state: string;
  readonly identityFile: string;
  readonly dbPasswordFile: string;
  readonly adminPasswordFile: string;
  readonly saltsFile: string;
  /** <stateDir>/composer/<name>: Composer's HOME and cache, the site user's (0700) and out of the pool's open_basedir. */
  readonly composerHome: string;
  /** <stateDir>/php-fpm/<name>: the site's PHP-FPM master (config, pid, log). */
  readonly fpmDir: string;
  readonly fpmConfig: string;
  /**
   * <stateDir>/sock/site_<id>: the site's own socket directory (named by id so the path stays
   * short: a Unix socket path has 107 bytes at most), the only one bound into its jail.
   */
  readonly fpmSocketDir: string;
  readonly fpmSocket: string;
  readonly fpmPid: string;
  readonly fpmLog: string;
  /** <nginx.sitesDir>/site_<id>.conf */
  readonly nginxFile: string;
  /**
   * <stateDir>/tls/site_<id>: root's, 0700; the certificate nginx serves for the site
   * (fullchain.pem 0644, privkey.pem 0600, certificate.json: what it is, never the key).
   */
  readonly tlsDir: string;
  readonly tlsCertificate: string;
  readonly tlsPrivateKey: string;
  readonly tlsMetadata: string;
  /** <pageCacheRoot>/site_<id>: nginx's user's, 0700; the site's page cache (no site user reads or writes it). */
  readonly pageCacheDir: string;
  /**
   * <fpmSocketDir>/purge: where the site's must-use plugin asks the agent to empty its page cache
   * (a name shorter than php.sock's: wherever the PHP-FPM socket fits a Unix socket path, it does).
   */
  readonly purgeSocket: string;
}

/** <stateDir>/acme/challenges: root's, 0755; http-01 key authorizations (0644) every site's server block serves. */
export function acmeChallengeDir(settings: HostSettings): string {
  return join(settings.stateDir, 'acme', 'challenges');
}

/** <stateDir>/acme/accounts: root's, 0700; the node's ACME account keys (one per directory URL). */
export function acmeAccountDir(settings: HostSettings): string {
  return join(settings.stateDir, 'acme', 'accounts');
}

export function sitePaths(settings: HostSettings, name: string, id: string): SitePaths {
  const root = join(settings.sitesRoot, checkName(name));
  const shared = join(root, 'shared');
  const state = join(settings.stateDir, 'sites', name);
  const fpmDir = join(settings.stateDir, 'php-fpm', name);
  return {
    name,
    root,
    buildArea: join(settings.sitesRoot, '.build'),
    releases: join(root, 'releases'),
    current: join(root, 'current'),
    shared,
    wpConfig: join(shared, 'wp-config.php'),
    uploads: join(shared, 'uploads'),
    tmp: join(root, 'tmp'),
    logs: join(root, 'logs'),
    state,
    identityFile: join(state, 'site.json'),
    dbPasswordFile: join(state, 'db-password'),
    adminPasswordFile: join(state, 'admin-password'),
    saltsFile: join(state, 'wp-salts.json'),
    composerHome: join(settings.stateDir, 'composer', name),
    fpmDir,
    fpmConfig: join(fpmDir, 'php-fpm.conf'),
    fpmSocketDir: join(settings.stateDir, 'sock', accountName(id)),
    fpmSocket: join(settings.stateDir, 'sock', accountName(id), 'php.sock'),
    fpmPid: join(fpmDir, 'php-fpm.pid'),
    fpmLog: join(fpmDir, 'php-fpm.log'),
    nginxFile: join(settings.nginx.sitesDir, `${accountName(id)}.conf`),
    tlsDir: join(settings.stateDir, 'tls', accountName(id)),
    tlsCertificate: join(settings.stateDir, 'tls', accountName(id), 'fullchain.pem'),
    tlsPrivateKey: join(settings.stateDir, 'tls', accountName(id), 'privkey.pem'),
    tlsMetadata: join(settings.stateDir, 'tls', accountName(id), 'certificate.json'),
    pageCacheDir: join(settings.pageCacheRoot ?? join(settings.stateDir, 'page-cache'), accountName(id)),
    purgeSocket: join(settings.stateDir, 'sock', accountName(id), 'purge'),
  };
}

/** The longest Unix socket path the kernel takes (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** A release directory name: the UTC time, like 20261129T181500Z. */
export function releaseName(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export const RELEASE_NAME_PATTERN = /^\d{8}T\d{6}Z$/;
