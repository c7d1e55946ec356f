import { mkdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SerialQueue, StepReporter } from '@pressluft/agent-runtime';
import type { Logger } from '@pressluft/platform';
import { SiteCgroup } from './cgroup.js';
import { messageOf, StepError } from './errors.js';
import { checkRelease, reloadMaster } from './health.js';
import { databasePresence } from './mariadb.js';
import { accountName, SITE_ID_PATTERN, type SitePaths, type SitePlan } from './naming.js';
import { listenTarget } from './nginx.js';
import type { PurgeSockets } from './purge-socket.js';
import { currentRelease, pointCurrent } from './releases.js';
import { Dir, ensureDir, inTree, readIfExists, writeFileAtomic, type Ownership } from './safe-fs.js';
import type { HostSettings } from './settings.js';
import { waitFor200 } from './verify.js';
import { generateSalts, isSalts } from './wordpress.js';

/** What every host operation works with. */
export interface HostContext {
  readonly settings: HostSettings;
  readonly logger: Logger;
  readonly templatesDir: string;
  /** Deploys, rollbacks and rotations of one site run one at a time (by site name), whoever calls them. */
  readonly releaseQueue: SerialQueue;
  /** Told how a PHP-FPM master the agent started ended (the supervisor's record). */
  readonly masterExit?: (pid: number, code: number | null, signal: NodeJS.Signals | null) => void;
  /** The sites' purge sockets this agent serves (page-cache.ts servePurgeSocket). */
  readonly purgeSockets: PurgeSockets;
}

interface SiteIdentity {
  readonly name: string;
  readonly id: string;
}

/** The site's cgroup with its limits applied (check, apply, verify); undefined when limits are off. */
export async function siteCgroup(ctx: HostContext, plan: SitePlan): Promise<SiteCgroup | undefined> {
  if (!ctx.settings.cgroup) return undefined;
  const cgroup = await SiteCgroup.locate(ctx.settings.cgroup, plan.account);
  await cgroup.ensure(plan.resources);
  return cgroup;
}

/** The release `current` of a provisioned site points at; SiteNotProvisioned otherwise. */
export async function requireProvisioned(paths: SitePaths, name: string, id: string): Promise<string> {
  const identity = await readIdentity(paths.identityFile);
  if (identity?.id !== id) throw new StepError('validate', 'SiteNotProvisioned', `site ${name} with id ${id} is not provisioned on this node`);
  const current = await currentRelease(paths);
  if (current === undefined) throw new StepError('validate', 'SiteNotProvisioned', `site ${name} has no current release: provision it first`);
  return current;
}

/** The site's first domain, from its server block (a rollback has no SiteConfig). */
export async function firstDomain(paths: SitePaths): Promise<string> {
  const block = (await readIfExists(paths.nginxFile)) ?? '';
  const domain = /^\s*server_name\s+([^\s;]+)/m.exec(block)?.[1];
  if (domain === undefined) throw new Error(`no server_name in ${paths.nginxFile}`);
  return domain;
}

/**
 * GET / of a release through the site's own PHP-FPM pool must answer 200 (HealthCheckFailed
 * otherwise). Its directory as nginx's $realpath_root gives it: only the configured sites root is
 * resolved (the site's own tree is never followed by root).
 */
export async function healthCheck(ctx: HostContext, paths: SitePaths, domain: string, release: string): Promise<void> {
  const { port } = listenTarget(ctx.settings.nginx.listen);
  const started = Date.now();
  let answer;
  try {
    const releaseDir = join(await realpath(ctx.settings.sitesRoot), paths.name, 'releases', release);
    answer = await checkRelease(paths, { releaseDir, domain, serverPort: port, https: false });
  } catch (error) {
    throw new StepError('health', 'HealthCheckFailed', `GET http://${domain}/ of release ${release} through the site's PHP-FPM pool: ${messageOf(error)}`);
  }
  ctx.logger.debug({ site: paths.root, release, status: answer.status, ms: Date.now() - started }, 'health check');
  if (answer.status !== 200) {
    throw new StepError('health', 'HealthCheckFailed', `GET http://${domain}/ of release ${release} through the site's PHP-FPM pool answered HTTP ${answer.status}, not 200`);
  }
}

/**
 * The site answers 200 by its domain through nginx within 15 s (the `verify` step), or
 * SiteNotServing: over HTTP, or over HTTPS when HTTP answers the node's redirect there.
 */
export async function requireServing(ctx: HostContext, domain: string, onWait: () => Promise<void>, trace?: (attempt: { status: number | string; ms: number }) => void): Promise<void> {
  const target = listenTarget(ctx.settings.nginx.listen);
  const tls = ctx.settings.nginx.tlsListen !== undefined ? listenTarget(ctx.settings.nginx.tlsListen) : undefined;
  const answer = await waitFor200(target.host, target.port, domain, 15_000, onWait, trace, tls);
  if (answer instanceof Error) throw new StepError('verify', 'SiteNotServing', `GET http://${domain}/ via ${target.host}:${target.port}: ${answer.message}`);
  if (answer.status !== 200) throw new StepError('verify', 'SiteNotServing', `GET http://${domain}/ via ${target.host}:${target.port} answered ${answer.status}, not 200`);
}

/**
 * `current` -> releases/<release> (a new symlink, the site user's like its target so that nginx's
 * disable_symlinks if_not_owner follows it, renamed over the old one), then a graceful PHP-FPM reload.
 */
export async function switchTo(paths: SitePaths, owner: Ownership, release: string, report: StepReporter): Promise<void> {
  await pointCurrent(paths, owner, release);
  const pid = await reloadMaster(paths);
  await report.log(`current -> releases/${release}; php-fpm (pid ${pid}) reloaded`);
}

/** Is the database of `id` there (for tests and fingerprints). */
export async function databasePresent(ctx: HostContext, id: string): Promise<{ database: boolean; user: boolean }> {
  return databasePresence(ctx.settings.mariadb.command, accountName(id));
}


export async function ensureStateDirs(settings: HostSettings, paths: SitePaths): Promise<void> {
  await ensureDir(settings.stateDir, { mode: 0o711 });
  await ensureDir(join(settings.stateDir, 'sites'), { mode: 0o700 });
  await ensureDir(join(settings.stateDir, 'php-fpm'), { mode: 0o711 });
  await ensureDir(paths.state, { mode: 0o700 });
}

/**
 * Each site's sockets (PHP-FPM's, the purge socket) in a directory of its own: the only one bound
 * into its jail. Its parent keeps every site user out; the directory itself is traversable (0751)
 * so the site's PHP reaches its purge socket in the jail (where the parents are the jail's own)
 * and lists nothing. Root's, nginx's group.
 */
export async function ensureSocketDir(paths: SitePaths, web: Ownership): Promise<void> {
  await ensureDir(dirname(paths.fpmSocketDir), { mode: 0o750, owner: { uid: 0, gid: web.gid } });
  await ensureDir(paths.fpmSocketDir, { mode: 0o751, owner: { uid: 0, gid: web.gid } });
}

/**
 * <root> 0750 site user : nginx's group -- other sites' users cannot even traverse it; nginx
 * reaches static files and resolves `current`. shared/uploads is written by the site user only.
 * tmp/ and logs/ are the site user's alone.
 */
export async function ensureTree(settings: HostSettings, paths: SitePaths, owner: Ownership, web: Ownership): Promise<void> {
  // Created if missing; an existing root (Ansible's) keeps its owner and mode.
  await mkdir(settings.sitesRoot, { recursive: true, mode: 0o755 });
  const site = { uid: owner.uid, gid: web.gid };
  // Each directory is made (or checked) inside its parent's descriptor: the tenant owns them all.
  const ensure = async (parent: Dir, name: string, options: { mode: number; owner: Ownership }, then: (dir: Dir) => Promise<void> = () => Promise.resolve()) => {
    const dir = await parent.ensureDir(name, options);
    try {
      await then(dir);
    } finally {
      await dir.close();
    }
  };
  await Dir.with(settings.sitesRoot, [], (sites) =>
    ensure(sites, paths.name, { mode: 0o750, owner: site }, async (root) => {
      await ensure(root, 'releases', { mode: 0o750, owner: site });
      await ensure(root, 'shared', { mode: 0o750, owner: site }, (shared) => ensure(shared, 'uploads', { mode: 0o750, owner: site }));
      await ensure(root, 'tmp', { mode: 0o700, owner });
      await ensure(root, 'logs', { mode: 0o700, owner });
    }),
  );
}

/** shared/wp-config.php: root:site 0640 (PHP, the site user by group, reads it; nginx's user cannot), written inside shared/'s descriptor. */
export function ensureWpConfig(paths: SitePaths, content: string, owner: Ownership): Promise<boolean> {
  return inTree(paths.root, ['shared'], (shared) => shared.ensureFile('wp-config.php', content, { mode: 0o640, owner: { uid: 0, gid: owner.gid } }));
}

/** The site's WordPress salts (root-only file), generated once. */
export async function siteSalts(paths: SitePaths) {
  const text = await readIfExists(paths.saltsFile);
  if (text !== undefined) {
    const parsed: unknown = JSON.parse(text);
    if (isSalts(parsed)) return parsed;
  }
  const salts = generateSalts();
  await writeFileAtomic(paths.saltsFile, `${JSON.stringify(salts)}\n`, { mode: 0o600 });
  return salts;
}

export async function readIdentity(file: string): Promise<SiteIdentity | undefined> {
  const text = await readIfExists(file);
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as Partial<SiteIdentity>;
  if (typeof parsed.name !== 'string' || typeof parsed.id !== 'string' || !SITE_ID_PATTERN.test(parsed.id)) return undefined;
  return { name: parsed.name, id: parsed.id };
}
