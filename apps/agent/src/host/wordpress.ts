import { randomInt } from 'node:crypto';
import { redact } from './errors.js';
import { tail } from './exec.js';
import { execJailed, phpCliEnv, type JailCommand } from './jail.js';
import type { Ownership } from './safe-fs.js';
import type { SitePaths, SitePlan } from './naming.js';
import { phpSingleQuoted, renderTemplate, type Escaper } from './template.js';

export const SALT_NAMES = ['auth_key', 'secure_auth_key', 'logged_in_key', 'nonce_key', 'auth_salt', 'secure_auth_salt', 'logged_in_salt', 'nonce_salt'] as const;
export type Salts = Record<(typeof SALT_NAMES)[number], string>;

// WordPress's own salt alphabet, less the quote and backslash (no escaping needed anywhere).
const SALT_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_[]{}<>~`+=,.;:/?|';

/** A random string from `alphabet` (crypto-strong, unbiased). */
export function randomString(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Eight fresh 64-character keys and salts, as WordPress's secret-key service makes them. */
export function generateSalts(): Salts {
  return Object.fromEntries(SALT_NAMES.map((name) => [name, randomString(64, SALT_ALPHABET)])) as Salts;
}

export function isSalts(value: unknown): value is Salts {
  return typeof value === 'object' && value !== null && SALT_NAMES.every((n) => typeof (value as Record<string, unknown>)[n] === 'string');
}

/** `http://<first domain>`: the URL `wp core install` gives the site (IssueCertificate switches it to https://). */
export function homeUrl(plan: Pick<SitePlan, 'domains'>): string {
  return siteUrl(plan.domains[0] ?? '', 'http');
}

/**
 * WordPress's home and siteurl for a site served by `scheme`: never a port. Sites are addressed by
 * their Host header alone (`curl -H 'Host: shop.example.test' http://127.0.0.1:8081/`, the
 * agent's own verify and health checks), and WordPress redirects every request whose host and
 * port differ from home's; the scheme it does not compare.
 */
export function siteUrl(domain: string, scheme: 'http' | 'https'): string {
  return `${scheme}://${domain}`;
}

/** The WordPress options that hold the site's URL. */
export const URL_OPTIONS = ['home', 'siteurl'] as const;

/** `wp option get <name>` */
export function optionGetArgv(wpCli: readonly string[], path: string, name: string): string[] {
  return [...wpCli, 'option', 'get', name, `--path=${path}`];
}

/** `wp option update <name> <value>` (the value is a URL the agent made, never a secret). */
export function optionUpdateArgv(wpCli: readonly string[], path: string, name: string, value: string): string[] {
  return [...wpCli, 'option', 'update', name, value, `--path=${path}`];
}

/** The parts of a site's plan wp-config.php depends on (a rotation rebuilds them from the node's files). */
export type WpConfigPlan = Pick<SitePlan, 'name' | 'account' | 'domains'>;

/**
 * wp-config.php. Pure. `objectCache` is PHP rendered (and escaped) from its own template
 * (object-cache.ts renderObjectCache): it goes in as it is; every other value is a PHP string.
 * `database`: the site's own (`site_<id>`) unless a restore checks a staged one.
 */
export function renderWpConfig(template: string, plan: WpConfigPlan, paths: SitePaths, dbSocket: string, dbPassword: string, salts: Salts, objectCache: string, database = plan.account): string {
  const escape: Escaper = (value, placeholder) => (placeholder === 'object_cache' ? value : phpSingleQuoted(value, placeholder));
  return renderTemplate(
    template,
    {
      site: plan.name,
      db_name: database,
      db_user: plan.account,
      db_password: dbPassword,
      db_socket: dbSocket,
      tmp_dir: paths.tmp,
      purge_socket: paths.purgeSocket,
      ...salts,
      object_cache: objectCache,
    },
    escape,
    'wp-config.php',
  );
}

/** `wp core is-installed`: exit 0 installed, 1 not. */
export function isInstalledArgv(wpCli: readonly string[], path: string): string[] {
  return [...wpCli, 'core', 'is-installed', `--path=${path}`];
}

/** `wp core install`; the admin password is prompted for and arrives on stdin, never in argv. */
export function installArgv(wpCli: readonly string[], path: string, plan: SitePlan): string[] {
  return [
    ...wpCli,
    'core',
    'install',
    `--path=${path}`,
    `--url=${homeUrl(plan)}`,
    `--title=${plan.wordpress.title}`,
    `--admin_user=${plan.wordpress.adminUser}`,
    `--admin_email=${plan.wordpress.adminEmail}`,
    '--skip-email',
    '--prompt=admin_password',
  ];
}

/** `wp cron event run --due-now`: the site's due WP-Cron events (wp-config.php disables the page-view trigger). */
export function cronRunArgv(wpCli: readonly string[], path: string): string[] {
  return [...wpCli, 'cron', 'event', 'run', '--due-now', `--path=${path}`];
}

/**
 * WP-CLI's environment as the site user: HOME in the site's tmp (WP-CLI caches there), nothing of
 * the agent's, and the pool's open_basedir and disable_functions, all of them: the commands the
 * agent runs (core is-installed, core install) need none.
 */
export function wpCliEnv(templatesDir: string, paths: Pick<SitePaths, 'root' | 'tmp'>): NodeJS.ProcessEnv {
  return phpCliEnv(templatesDir, [`${paths.root}/`], [], { HOME: paths.tmp });
}

export class WpCliError extends Error {
  override readonly name = 'WpCliError';
}

/**
 * home and siteurl follow `url` (check, apply, verify: each is read, updated only when it
 * differs, read again): WP-CLI as the site user in `jail`. Returns the options it changed.
 */
export async function ensureSiteUrl(wpCli: readonly string[], jail: JailCommand, templatesDir: string, paths: SitePaths, owner: Ownership, url: string): Promise<string[]> {
  const options = { env: wpCliEnv(templatesDir, paths), timeoutMs: 120_000 };
  const get = async (name: string) => {
    const result = await execJailed(jail, owner, optionGetArgv(wpCli, paths.current, name), options);
    if (result.code !== 0) throw new WpCliError(`wp option get ${name} exited ${String(result.code)}: ${tail(result.stderr || result.stdout)}`);
    return result.stdout.trim();
  };
  const changed: string[] = [];
  for (const name of URL_OPTIONS) {
    if ((await get(name)) === url) continue;
    const result = await execJailed(jail, owner, optionUpdateArgv(wpCli, paths.current, name, url), options);
    if (result.code !== 0) throw new WpCliError(`wp option update ${name} exited ${String(result.code)}: ${tail(result.stderr || result.stdout)}`);
    const now = await get(name);
    if (now !== url) throw new WpCliError(`wp option ${name} is ${JSON.stringify(now)} after the update, not ${JSON.stringify(url)}`);
    changed.push(name);
  }
  return changed;
}

/**
 * Check, apply (verify is the HTTP check after it): `wp core is-installed`, and if not,
 * `wp core install` with the admin password on stdin. WP-CLI runs as the site user in `jail` (the
 * site's, working directory tmp/), so nothing it starts outlives it.
 * `freshDatabase`: the database was created moments ago, so the check's answer is known (not
 * installed) and its WP-CLI run (a PHP start and a WordPress load) is skipped.
 */
export async function ensureInstalled(
  wpCli: readonly string[],
  jail: JailCommand,
  templatesDir: string,
  paths: SitePaths,
  plan: SitePlan,
  owner: Ownership,
  adminPassword: string,
  freshDatabase: boolean,
): Promise<{ installed: boolean; checkMs: number; installMs: number }> {
  const options = { env: wpCliEnv(templatesDir, paths), timeoutMs: 300_000 };
  const started = Date.now();
  if (!freshDatabase) {
    const check = await execJailed(jail, owner, isInstalledArgv(wpCli, paths.current), options);
    if (check.code === 0) return { installed: false, checkMs: Date.now() - started, installMs: 0 };
    if (check.code !== 1) throw new WpCliError(`wp core is-installed exited ${String(check.code)}: ${tail(check.stderr || check.stdout)}`);
  }
  const checkMs = Date.now() - started;
  const install = await execJailed(jail, owner, installArgv(wpCli, paths.current, plan), { ...options, input: `${adminPassword}\n` });
  if (install.code !== 0) {
    throw new WpCliError(redact(`wp core install exited ${String(install.code)}: ${tail(install.stderr || install.stdout)}`, [adminPassword]));
  }
  return { installed: true, checkMs, installMs: Date.now() - started - checkMs };
}
