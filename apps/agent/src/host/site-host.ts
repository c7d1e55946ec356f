import { lstat, mkdir, readdir, readlink, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObservedHostSite, ProvisionResult, ReleasesResult, SiteOperations, StepReporter } from '@pressluft/agent-runtime';
import type { Logger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { SiteCgroup } from './cgroup.js';
import { installDependencies } from './composer.js';
import { messageOf, redact, StepError } from './errors.js';
import { ensureDir, ensureFile, readIfExists, symlinkAtomic, writeFileAtomic, type Ownership } from './fs-util.js';
import { checkRelease, reloadMaster } from './health.js';
import { pendingPasswordFile, ROTATION_GRACE_MS, rotationPasswords, tryLogin } from './credentials.js';
import { fingerprintsOf } from './fingerprints.js';
import { databasePresence, ensureDatabase, removeDatabase, setPasswords, userGrants } from './mariadb.js';
import { accountName, checkId, checkName, MAX_SOCKET_PATH_BYTES, planSite, releaseName, SITE_ID_PATTERN, SITE_NAME_PATTERN, sitePaths, type SitePaths, type SitePlan } from './naming.js';
import { ensureServerBlock, listenTarget, NginxConfigError, removeServerBlock, renderServerBlock } from './nginx.js';
import { childrenOf, ensureMaster, FpmConfigError, renderFpmConfig, stopMaster } from './php-fpm.js';
import { checkGitSource, checkReleaseName, commitRelease, discardRelease, fetchGit, GitFetchError, keepCount, listReleases, previousRelease, releasesToPrune, nextReleaseName, stageRelease } from './releases.js';
import { ensureSecret } from './secrets.js';
import type { HostSettings } from './settings.js';
import { defaultTemplatesDir, loadTemplate, TemplateError } from './template.js';
import { ensureUser, groupNameOf, lookupUser, removeUser, requireUser } from './users.js';
import { waitFor200 } from './verify.js';
import { currentRelease, ensureInstalled, ensureRelease, generateSalts, isSalts, randomString, renderWpConfig } from './wordpress.js';

export { StepError } from './errors.js';
export type { ObservedHostSite, ProvisionResult, ReleasesResult, StepReporter } from '@pressluft/agent-runtime';

/** A long step re-reports its progress this often, so the runtime keeps the command's message alive. */
const TICK_MS = 2_000;

/** The reason a step reports when it fails without a more specific one. */
const STEP_REASONS: Record<string, string> = {
  validate: 'InvalidSite',
  user: 'UserFailed',
  tree: 'SiteTreeFailed',
  database: 'DatabaseFailed',
  cgroup: 'CgroupFailed',
  'php-fpm': 'PhpFpmFailed',
  'wp-config': 'WpConfigFailed',
  release: 'ReleaseFailed',
  nginx: 'NginxFailed',
  wordpress: 'WordPressInstallFailed',
  verify: 'SiteNotServing',
  state: 'StateFailed',
  fetch: 'GitFetchFailed',
  dependencies: 'DependencyInstallFailed',
  health: 'HealthCheckFailed',
  switch: 'ReleaseSwitchFailed',
  prune: 'PruneFailed',
  revoke: 'DatabasePasswordRevokeFailed',
};

interface SiteIdentity {
  readonly name: string;
  readonly id: string;
}

/**
 * The host side of a site on this node: every step idempotent (check, apply, verify), run in
 * order for provision and in reverse for remove. Processes run from argv arrays; secrets go
 * through files (0600, root) and stdin only; a failure is a StepError whose message holds no secret.
 */
export class SiteHost implements SiteOperations {
  private readonly templatesDir: string;
  /** Deploys and rollbacks of one site run one at a time (by site name). */
  private readonly releaseLocks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly settings: HostSettings,
    private readonly logger: Logger,
  ) {
    this.templatesDir = settings.templatesDir ?? defaultTemplatesDir();
  }

  /** Root-only file with the site's WordPress admin password (generated on first provision). */
  adminPasswordFile(name: string): string {
    return join(this.settings.stateDir, 'sites', checkName(name), 'admin-password');
  }

  /**
   * Fingerprints of everything the agent manages for the site (see fingerprints.ts): the server
   * block, the PHP-FPM configuration, wp-config.php (a digest only: it holds secrets), `current`,
   * the Linux user and the tree's owner, the database, its user and that user's grants. Only reads;
   * the control plane compares them with what the site's last converge left.
   */
  async fingerprints(name: string, id: string): Promise<Record<string, string>> {
    const paths = sitePaths(this.settings, checkName(name), checkId(id));
    const account = accountName(id);
    const read = (path: string) => readIfExists(path).catch(() => undefined);
    const wpConfig = async () => {
      const [content, meta] = await Promise.all([read(paths.wpConfig), lstat(paths.wpConfig).catch(() => undefined)]);
      return content === undefined || !meta ? undefined : { content, mode: meta.mode, uid: meta.uid, gid: meta.gid };
    };
    const user = async () => {
      const owner = await lookupUser(account).catch(() => undefined);
      return owner && { uid: owner.uid, treeUid: (await stat(paths.root).catch(() => undefined))?.uid };
    };
    const database = async () => {
      const presence = await this.databasePresent(id).catch(() => ({ database: false, user: false }));
      const grants = presence.user ? await userGrants(this.settings.mariadb.command, account).catch(() => undefined) : undefined;
      return { ...presence, grants };
    };
    const [serverBlock, fpmConfig, wp, currentTarget, owner, db] = await Promise.all([
      read(paths.nginxFile),
      read(paths.fpmConfig),
      wpConfig(),
      readlink(paths.current).catch(() => undefined),
      user(),
      database(),
    ]);
    return fingerprintsOf({
      ...(serverBlock !== undefined ? { serverBlock } : {}),
      ...(fpmConfig !== undefined ? { fpmConfig } : {}),
      ...(wp ? { wpConfig: wp } : {}),
      ...(currentTarget !== undefined ? { currentTarget } : {}),
      ...(owner ? { user: owner } : {}),
      database: db.database,
      databaseUser: db.user,
      ...(db.grants !== undefined ? { grants: db.grants } : {}),
    });
  }

  async provision(site: SiteConfig, report: StepReporter): Promise<ProvisionResult> {
    const secrets: string[] = [];
    const run = <T>(step: string, percent: number, fn: () => Promise<T>) => this.step(report, site.name, step, percent, secrets, fn);
    const { plan, paths } = await run('validate', 2, async () => {
      const plan = planSite(site);
      const paths = sitePaths(this.settings, plan.name, plan.id);
      await this.ensureStateDirs(paths);
      const identity = await readIdentity(paths.identityFile);
      if (identity && identity.id !== plan.id) {
        throw new StepError('validate', 'SiteIdConflict', `this node still holds site ${plan.name} with id ${identity.id}; remove it before provisioning id ${plan.id}`);
      }
      if (!identity) await writeFileAtomic(paths.identityFile, `${JSON.stringify({ name: plan.name, id: plan.id })}\n`, { mode: 0o600 });
      return { plan, paths };
    });

    const { owner, web } = await run('user', 5, async () => {
      const web = await requireUser(this.settings.nginx.user);
      const { uid, gid, created } = await ensureUser(plan.account, paths.root, `pressluft site ${plan.name}`);
      if (created) await report.log(`user ${plan.account}: created, uid ${uid}`);
      return { owner: { uid, gid }, web };
    });

    await run('tree', 10, () => this.ensureTree(paths, owner, web));

    // From here the steps run as early as their inputs allow, and are awaited (and reported) in
    // order: database -> wp-config -> WordPress install is the critical path; the release (core
    // copy) and cgroup -> PHP-FPM run beside it. WordPress is installed BEFORE nginx serves the
    // site, so no visitor ever reaches an uninstalled WordPress's install.php. A failure is
    // reported by the first step (in order) that fails, after every started task has settled.
    const tasks = new TaskGroup();
    try {
      const database = tasks.start(async () => {
        const password = await ensureSecret(paths.dbPasswordFile, () => randomString(32));
        secrets.push(password);
        // An interrupted rotation left its new password pending: it may already be in wp-config.php
        // or the only one the database takes, so both authenticate until a rotation finishes it.
        const pending = (await readIfExists(pendingPasswordFile(paths)))?.trim();
        if (pending) secrets.push(pending);
        const { created } = await ensureDatabase(this.settings.mariadb.command, plan.account, password, pending ? [pending] : []);
        return { password, created };
      });
      const cgroup = tasks.start(() => this.siteCgroup(plan));
      const fpm = tasks.start(async () => {
        if (Buffer.byteLength(paths.fpmSocket) > MAX_SOCKET_PATH_BYTES) {
          throw new FpmConfigError(`the PHP-FPM socket path ${paths.fpmSocket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes: use a shorter state directory`);
        }
        await ensureDir(paths.fpmDir, { mode: 0o750, owner: { uid: 0, gid: web.gid } });
        await ensureDir(paths.fpmSocketDir, { mode: 0o750, owner: { uid: 0, gid: web.gid } });
        const templates = { global: loadTemplate(this.templatesDir, 'php-fpm/global.conf'), pool: loadTemplate(this.templatesDir, 'php-fpm/pool.conf') };
        const config = renderFpmConfig(templates, plan, paths, await groupNameOf(web.gid));
        const group = await cgroup;
        return ensureMaster(this.settings.phpFpm.binary, paths, config, async (pid) => {
          // Right after spawn (pm = ondemand: no worker yet), and again on every converge.
          if (group) await group.adopt([pid, ...(await childrenOf(pid))]);
        });
      });
      const wpConfig = tasks.start(async () => {
        const { password } = await database;
        const salts = await this.salts(paths);
        secrets.push(...Object.values(salts));
        const content = renderWpConfig(loadTemplate(this.templatesDir, 'wordpress/wp-config.php.tmpl'), plan, paths, this.settings.mariadb.socket, password, salts);
        // root:site_<id> 0640: PHP (the site user, by group) reads it; nginx's user cannot, whatever its configuration says.
        await ensureFile(paths.wpConfig, content, { mode: 0o640, owner: { uid: 0, gid: owner.gid } });
      });
      const release = tasks.start(() => ensureRelease(this.settings.wordpressSource, paths, owner, releaseName(new Date()), join(this.settings.stateDir, 'wordpress-core')));
      const install = tasks.start(async () => {
        const [{ created }] = await Promise.all([database, wpConfig, release]);
        const adminPassword = await ensureSecret(paths.adminPasswordFile, () => randomString(24));
        secrets.push(adminPassword);
        return ensureInstalled(this.settings.wpCli, paths, plan, owner, adminPassword, created);
      });

      await run('database', 15, () => database);
      await run('cgroup', 25, () => cgroup);
      await run('php-fpm', 30, async () => {
        const result = await fpm;
        if (result.action !== 'unchanged') await report.log(`php-fpm ${plan.account}: ${result.action} (pid ${result.pid})`);
      });
      await run('wp-config', 40, () => wpConfig);
      const current = await run('release', 45, async () => {
        const result = await release;
        if (result.created) await report.log(`release ${result.release}: WordPress core from ${this.settings.wordpressSource}${result.linked ? ' (hard links)' : ''}`);
        return result.release;
      });
      await run('wordpress', 60, async () => {
        const result = await install;
        this.logger.debug({ site: plan.name, checkMs: result.checkMs, installMs: result.installMs }, 'wp-cli');
        if (result.installed) await report.log(`wordpress: installed, admin ${plan.wordpress.adminUser}`);
      });

      await run('nginx', 85, async () => {
        const block = renderServerBlock(loadTemplate(this.templatesDir, 'nginx/site.conf'), plan, paths, this.settings.nginx.listen);
        if (await ensureServerBlock(this.settings.nginx.command, paths.nginxFile, block)) await report.log(`nginx: server block ${paths.nginxFile} loaded`);
      });

      await run('verify', 95, async () => {
        const target = listenTarget(this.settings.nginx.listen);
        const domain = plan.domains[0] ?? '';
        const attempts: Array<{ status: number | string; ms: number }> = [];
        const answer = await waitFor200(target.host, target.port, domain, 15_000, () => report.progress('verify', 95), (a) => attempts.push(a));
        this.logger.debug({ site: plan.name, attempts }, 'verify');
        if (answer instanceof Error) throw new StepError('verify', 'SiteNotServing', `GET http://${domain}/ via ${target.host}:${target.port}: ${answer.message}`);
        if (answer.status !== 200) throw new StepError('verify', 'SiteNotServing', `GET http://${domain}/ via ${target.host}:${target.port} answered ${answer.status}, not 200`);
      });

      return { url: `http://${plan.domains[0] ?? ''}/`, currentRelease: current };
    } finally {
      await tasks.settled();
    }
  }

  /** Removes everything of the site, in reverse order; each step tolerates "already gone". */
  async remove(name: string, id: string, report: StepReporter): Promise<void> {
    const run = (step: string, percent: number, fn: () => Promise<void>) => this.step(report, name, step, percent, [], fn);
    const account = accountName(checkId(id));
    const paths = sitePaths(this.settings, checkName(name), id);
    const identity = await readIdentity(paths.identityFile);
    // Name-keyed things (tree, state, PHP-FPM dir) belong to whichever id the node recorded for the name.
    const ownsName = identity === undefined || identity.id === id;
    if (!ownsName) await report.log(`site ${name} on this node has id ${identity?.id ?? '?'}: only ${account}'s user, database and server block are removed`);

    await run('nginx', 5, async () => {
      if (await removeServerBlock(this.settings.nginx.command, paths.nginxFile)) await report.log(`nginx: server block ${paths.nginxFile} removed`);
    });
    if (ownsName) {
      await run('php-fpm', 20, async () => {
        if (await stopMaster(paths.fpmPid, paths.fpmConfig)) await report.log(`php-fpm ${account}: stopped`);
        await rm(paths.fpmDir, { recursive: true, force: true });
        await rm(paths.fpmSocket, { force: true });
      });
    }
    await run('cgroup', 35, async () => {
      if (this.settings.cgroup) await (await SiteCgroup.locate(this.settings.cgroup, account)).remove();
    });
    await run('database', 50, async () => {
      await removeDatabase(this.settings.mariadb.command, account);
    });
    if (ownsName) {
      await run('tree', 65, async () => {
        await rm(paths.root, { recursive: true, force: true });
      });
      await run('state', 80, async () => {
        await rm(paths.state, { recursive: true, force: true });
        await rm(paths.composerHome, { recursive: true, force: true });
      });
    }
    await run('user', 90, async () => {
      await removeUser(account);
    });
  }

  /**
   * A new release of a provisioned site: releases/<UTC ts>/ with WordPress core (hard links from
   * the node's pristine copy) and, with spec.code.git, the repository's wp-content over it (files
   * unchanged since the previous release hard-linked from it); shared/wp-config.php and uploads
   * linked in; with a composer.json in wp-content, `composer install` as the site user in the
   * staging dir (DependencyInstallFailed leaves no release behind). Then GET / of the NEW release
   * through the site's own PHP-FPM pool must answer 200 BEFORE `current` moves (atomic rename of
   * a new symlink over it) and the pool reloads gracefully. A failed check removes the release and leaves `current` as it was
   * (HealthCheckFailed). Finally keeps the newest keepReleases (never current or the one before).
   */
  async deploy(site: SiteConfig, report: StepReporter): Promise<ReleasesResult> {
    const plan = await this.step(report, site.name, 'validate', 5, [], () => Promise.resolve(planSite(site)));
    return this.locked(plan.name, async () => {
      const run = <T>(step: string, percent: number, fn: () => Promise<T>) => this.step(report, plan.name, step, percent, [], fn);
      const { paths, owner, keep, git, current } = await run('validate', 5, async () => {
        const paths = sitePaths(this.settings, plan.name, plan.id);
        const current = await this.requireProvisioned(paths, plan.name, plan.id);
        const owner = await requireUser(plan.account);
        const keep = keepCount(site.keepReleases);
        const git = site.git && site.git.url !== '' ? checkGitSource(site.git.url, site.git.ref, { allowLocal: this.settings.gitAllowLocal === true }) : undefined;
        return { paths, owner, keep, git, current };
      });
      const checkout = git
        ? await run('fetch', 15, async () => {
            const fetched = await fetchGit(git.url, git.ref, join(this.settings.stateDir, 'git', plan.name), { allowLocal: this.settings.gitAllowLocal === true });
            await report.log(`git: ${git.url} at ${git.ref || 'the default branch'} fetched`);
            return fetched;
          })
        : undefined;
      let staged;
      try {
        staged = await run('release', 35, async () => {
          const name = nextReleaseName(await listReleases(paths), new Date());
          const result = await stageRelease({
            source: this.settings.wordpressSource,
            coreCache: join(this.settings.stateDir, 'wordpress-core'),
            paths,
            owner,
            name,
            wantedVersion: site.wordpress?.version ?? '',
            ...(checkout ? { content: checkout.content } : {}),
            previous: current,
          });
          const content = result.content ? `, wp-content from git: ${result.content.copied} files copied, ${result.content.linked} hard-linked from ${current}` : '';
          await report.log(`release ${name}: WordPress ${result.coreVersion}${result.linkedCore ? ' (hard links)' : ''}${content}`);
          return result;
        });
      } finally {
        if (checkout) await rm(checkout.dir, { recursive: true, force: true });
      }
      // Dependencies go into the staging dir: a release that cannot install them never appears under releases/.
      const built = await run('dependencies', 45, async () => {
        try {
          const wpContent = join(staged.staging, 'wp-content');
          // Limits re-applied first: a reboot empties the cgroup tree.
          const group = await this.siteCgroup(plan);
          const installed = await installDependencies({
            composer: this.settings.composer,
            wpContent,
            home: paths.composerHome,
            owner,
            ...(group ? { confine: (pid: number) => group.adopt([pid]) } : {}),
          });
          if (installed.ran) {
            await report.log(`release ${staged.name}: composer install done in ${installed.ms} ms`);
            for (const line of installed.output.split('\n')) await report.log(`composer: ${line}`);
          } else await report.log(`release ${staged.name}: no composer.json in wp-content, no dependencies to install`);
        } catch (error) {
          await discardRelease(staged);
          throw error;
        }
        return commitRelease(staged);
      });
      await run('health', 60, async () => {
        try {
          await this.healthCheck(paths, built.dir, plan.domains[0] ?? '', built.name);
        } catch (error) {
          await rm(built.dir, { recursive: true, force: true });
          throw error;
        }
      });
      await run('switch', 80, () => this.switchTo(paths, built.name, report));
      await run('prune', 95, async () => {
        for (const release of releasesToPrune(await listReleases(paths), built.name, keep)) {
          await rm(join(paths.releases, release), { recursive: true, force: true });
          await report.log(`release ${release}: pruned`);
        }
      });
      return { currentRelease: built.name, releases: await listReleases(paths) };
    });
  }

  /** Switches back to the release before the current one (newest older than it), health-checked first like a deploy. */
  async rollback(name: string, id: string, report: StepReporter): Promise<ReleasesResult> {
    return this.rollbackTo(name, id, undefined, report);
  }

  /**
   * Switches to a named release that is still on disk (ReleaseNotFound otherwise); undefined or ''
   * (RollbackSite.release unset): the one before current.
   */
  async rollbackTo(name: string, id: string, wanted: string | undefined, report: StepReporter): Promise<ReleasesResult> {
    const release = wanted === '' ? undefined : wanted;
    await this.step(report, name, 'validate', 5, [], () => {
      checkName(name);
      checkId(id);
      if (release !== undefined) checkReleaseName(release);
      return Promise.resolve();
    });
    return this.locked(name, async () => {
      const run = <T>(step: string, percent: number, fn: () => Promise<T>) => this.step(report, name, step, percent, [], fn);
      const { paths, current, target } = await run('validate', 5, async () => {
        const paths = sitePaths(this.settings, name, id);
        const current = await this.requireProvisioned(paths, name, id);
        const releases = await listReleases(paths);
        const target = release ?? previousRelease(releases, current);
        if (target === undefined) throw new StepError('validate', 'ReleaseNotFound', `site ${name} has no release before ${current} on this node`);
        if (!releases.includes(target)) throw new StepError('validate', 'ReleaseNotFound', `release ${target} of site ${name} is not on this node (it has ${releases.join(', ')})`);
        return { paths, current, target };
      });
      if (target !== current) {
        await run('health', 40, async () => this.healthCheck(paths, join(paths.releases, target), await this.firstDomain(paths), target));
        await run('switch', 80, () => this.switchTo(paths, target, report));
      }
      return { currentRelease: target, releases: await listReleases(paths) };
    });
  }

  /**
   * A new database password for the site, without a failed request (see credentials.ts): the
   * database accepts old and new while wp-config.php switches atomically and PHP's OPcache and
   * in-flight requests catch up, then only the new one. Resumes an interrupted rotation. The
   * passwords appear in no argv, log line, progress or error.
   */
  async rotateDatabasePassword(name: string, id: string, report: StepReporter): Promise<{ rotatedAt: string }> {
    await this.step(report, name, 'validate', 5, [], () => {
      checkName(name);
      checkId(id);
      return Promise.resolve();
    });
    return this.locked(name, async () => {
      const secrets: string[] = [];
      const run = <T>(step: string, percent: number, fn: () => Promise<T>) => this.step(report, name, step, percent, secrets, fn);
      const account = accountName(id);
      const mariadb = this.settings.mariadb;
      const { paths, owner, domain, old, next } = await run('validate', 5, async () => {
        const paths = sitePaths(this.settings, name, id);
        await this.requireProvisioned(paths, name, id);
        const owner = await requireUser(account);
        const domain = await this.firstDomain(paths);
        const passwords = rotationPasswords(await readIfExists(paths.dbPasswordFile), await readIfExists(pendingPasswordFile(paths)), () => randomString(32));
        secrets.push(passwords.old, passwords.next);
        if (passwords.resumed) await report.log(`database ${account}: resuming an interrupted password rotation`);
        // Written before the database hears of it: from here on a crash is resumable.
        else await writeFileAtomic(pendingPasswordFile(paths), `${passwords.next}\n`, { mode: 0o600 });
        return { paths, owner, domain, ...passwords };
      });
      await run('database', 20, () => setPasswords(mariadb.command, account, [next, old]));
      const switched = await run('wp-config', 40, async () => {
        const salts = await this.salts(paths);
        secrets.push(...Object.values(salts));
        const content = renderWpConfig(loadTemplate(this.templatesDir, 'wordpress/wp-config.php.tmpl'), { name, account, domains: [domain] }, paths, mariadb.socket, next, salts);
        await ensureFile(paths.wpConfig, content, { mode: 0o640, owner: { uid: 0, gid: owner.gid } });
        return Date.now();
      });
      await run('drain', 55, () => new Promise<void>((resolve) => setTimeout(resolve, ROTATION_GRACE_MS)));
      await run('revoke', 70, () => setPasswords(mariadb.command, account, [next]));
      await run('state', 80, async () => {
        await writeFileAtomic(paths.dbPasswordFile, `${next}\n`, { mode: 0o600 });
        await rm(pendingPasswordFile(paths), { force: true });
      });
      await run('verify', 90, async () => {
        const target = listenTarget(this.settings.nginx.listen);
        const answer = await waitFor200(target.host, target.port, domain, 15_000, () => report.progress('verify', 90));
        if (answer instanceof Error) throw new StepError('verify', 'SiteNotServing', `GET http://${domain}/ via ${target.host}:${target.port}: ${answer.message}`);
        if (answer.status !== 200) throw new StepError('verify', 'SiteNotServing', `GET http://${domain}/ via ${target.host}:${target.port} answered ${answer.status}, not 200`);
        const client = mariadb.command[0] ?? '/usr/bin/mariadb';
        const [oldLogin, newLogin] = [await tryLogin(client, paths.state, mariadb.socket, account, old), await tryLogin(client, paths.state, mariadb.socket, account, next)];
        if (oldLogin !== 'denied') throw new StepError('verify', 'OldDatabasePasswordValid', `database user ${account}: the old password is still ${oldLogin === 'accepted' ? 'accepted' : 'not clearly denied'}`);
        if (newLogin !== 'accepted') throw new StepError('verify', 'NewDatabasePasswordRejected', `database user ${account}: the new password is ${newLogin === 'denied' ? 'denied' : 'not clearly accepted'}`);
      });
      this.logger.info({ site: name, graceMs: ROTATION_GRACE_MS, sinceSwitchMs: Date.now() - switched }, 'database password rotated');
      await report.log(`database ${account}: password rotated, wp-config.php updated`);
      return { rotatedAt: new Date().toISOString() };
    });
  }

  /** The releases of a site on this node, newest first, and the one `current` points at. */
  async releases(name: string): Promise<{ current: string | undefined; releases: string[] }> {
    const identity = await readIdentity(join(this.settings.stateDir, 'sites', checkName(name), 'site.json'));
    if (!identity) return { current: undefined, releases: [] };
    const paths = sitePaths(this.settings, name, identity.id);
    return { current: await currentRelease(paths), releases: await listReleases(paths) };
  }

  /** The site's cgroup with its limits applied (check, apply, verify); undefined when limits are off. */
  private async siteCgroup(plan: SitePlan): Promise<SiteCgroup | undefined> {
    if (!this.settings.cgroup) return undefined;
    const cgroup = await SiteCgroup.locate(this.settings.cgroup, plan.account);
    await cgroup.ensure(plan.resources);
    return cgroup;
  }

  private async requireProvisioned(paths: SitePaths, name: string, id: string): Promise<string> {
    const identity = await readIdentity(paths.identityFile);
    if (identity?.id !== id) throw new StepError('validate', 'SiteNotProvisioned', `site ${name} with id ${id} is not provisioned on this node`);
    const current = await currentRelease(paths);
    if (current === undefined) throw new StepError('validate', 'SiteNotProvisioned', `site ${name} has no current release: provision it first`);
    return current;
  }

  /** The site's first domain, from its server block (a rollback has no SiteConfig). */
  private async firstDomain(paths: SitePaths): Promise<string> {
    const block = (await readIfExists(paths.nginxFile)) ?? '';
    const domain = /^\s*server_name\s+([^\s;]+)/m.exec(block)?.[1];
    if (domain === undefined) throw new Error(`no server_name in ${paths.nginxFile}`);
    return domain;
  }

  private async healthCheck(paths: SitePaths, dir: string, domain: string, release: string): Promise<void> {
    const { port } = listenTarget(this.settings.nginx.listen);
    const started = Date.now();
    let answer;
    try {
      answer = await checkRelease(paths, { releaseDir: await realpath(dir), domain, serverPort: port, https: false });
    } catch (error) {
      throw new StepError('health', 'HealthCheckFailed', `GET http://${domain}/ of release ${release} through the site's PHP-FPM pool: ${messageOf(error)}`);
    }
    this.logger.debug({ site: paths.root, release, status: answer.status, ms: Date.now() - started }, 'health check');
    if (answer.status !== 200) {
      throw new StepError('health', 'HealthCheckFailed', `GET http://${domain}/ of release ${release} through the site's PHP-FPM pool answered HTTP ${answer.status}, not 200`);
    }
  }

  private async switchTo(paths: SitePaths, release: string, report: StepReporter): Promise<void> {
    await symlinkAtomic(join('releases', release), paths.current);
    const now = await currentRelease(paths);
    if (now !== release) throw new Error(`current does not resolve to releases/${release} after the switch`);
    const pid = await reloadMaster(paths);
    await report.log(`current -> releases/${release}; php-fpm (pid ${pid}) reloaded`);
  }

  private async locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.releaseLocks.get(name) ?? Promise.resolve();
    const next = before.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.releaseLocks.set(name, tail);
    try {
      return await next;
    } finally {
      if (this.releaseLocks.get(name) === tail) this.releaseLocks.delete(name);
    }
  }

  /** The sites this node holds, from the agent's state (not from the control plane's word). */
  async observe(): Promise<ObservedHostSite[]> {
    const dir = join(this.settings.stateDir, 'sites');
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: ObservedHostSite[] = [];
    for (const name of names.sort()) {
      if (!SITE_NAME_PATTERN.test(name)) continue;
      const identity = await readIdentity(join(dir, name, 'site.json'));
      if (!identity || identity.name !== name) continue;
      const paths = sitePaths(this.settings, name, identity.id);
      out.push({ name, id: identity.id, currentRelease: (await currentRelease(paths)) ?? '' });
    }
    return out;
  }

  /** Stops every PHP-FPM master this node runs (tests, `tools/dev down`); sites stay provisioned. */
  async stopAll(): Promise<void> {
    const dir = join(this.settings.stateDir, 'php-fpm');
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.map((name) => stopMaster(join(dir, name, 'php-fpm.pid'), join(dir, name, 'php-fpm.conf'))));
  }

  /** Is the database of `id` there (for tests and fingerprints). */
  async databasePresent(id: string): Promise<{ database: boolean; user: boolean }> {
    return databasePresence(this.settings.mariadb.command, accountName(id));
  }

  private async step<T>(report: StepReporter, site: string, step: string, percent: number, secrets: readonly string[], fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    await report.progress(step, percent);
    const timer = setInterval(() => {
      report.progress(step, percent).catch((error: unknown) => this.logger.warn({ site, step, err: messageOf(error) }, 'progress report failed'));
    }, TICK_MS);
    timer.unref();
    try {
      const result = await fn();
      this.logger.debug({ site, step, ms: Date.now() - started }, 'host step done');
      return result;
    } catch (error) {
      const failure = toStepError(step, error, secrets);
      this.logger.warn({ site, step, reason: failure.reason, ms: Date.now() - started, err: failure.message }, 'host step failed');
      throw failure;
    } finally {
      clearInterval(timer);
    }
  }

  private async ensureStateDirs(paths: SitePaths): Promise<void> {
    await ensureDir(this.settings.stateDir, { mode: 0o711 });
    await ensureDir(join(this.settings.stateDir, 'sites'), { mode: 0o700 });
    await ensureDir(join(this.settings.stateDir, 'php-fpm'), { mode: 0o711 });
    await ensureDir(paths.state, { mode: 0o700 });
  }

  /**
   * <root> 0750 site user : nginx's group -- other sites' users cannot even traverse it; nginx
   * reaches static files and resolves `current`. shared/uploads is written by the site user only.
   * tmp/ and logs/ are the site user's alone.
   */
  private async ensureTree(paths: SitePaths, owner: Ownership, web: Ownership): Promise<void> {
    // Created if missing; an existing root (Ansible's) keeps its owner and mode.
    await mkdir(this.settings.sitesRoot, { recursive: true, mode: 0o755 });
    const site = { uid: owner.uid, gid: web.gid };
    await ensureDir(paths.root, { mode: 0o750, owner: site });
    await ensureDir(paths.releases, { mode: 0o750, owner: site });
    await ensureDir(paths.shared, { mode: 0o750, owner: site });
    await ensureDir(paths.uploads, { mode: 0o750, owner: site });
    await ensureDir(paths.tmp, { mode: 0o700, owner });
    await ensureDir(paths.logs, { mode: 0o700, owner });
  }

  private async salts(paths: SitePaths) {
    const text = await readIfExists(paths.saltsFile);
    if (text !== undefined) {
      const parsed: unknown = JSON.parse(text);
      if (isSalts(parsed)) return parsed;
    }
    const salts = generateSalts();
    await writeFileAtomic(paths.saltsFile, `${JSON.stringify(salts)}\n`, { mode: 0o600 });
    return salts;
  }
}

async function readIdentity(file: string): Promise<SiteIdentity | undefined> {
  const text = await readIfExists(file);
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as Partial<SiteIdentity>;
  if (typeof parsed.name !== 'string' || typeof parsed.id !== 'string' || !SITE_ID_PATTERN.test(parsed.id)) return undefined;
  return { name: parsed.name, id: parsed.id };
}

/** Tasks started early and awaited later; `settled` waits for all, so nothing outlives a failed provision. */
class TaskGroup {
  private readonly all: Promise<unknown>[] = [];

  start<T>(fn: () => Promise<T>): Promise<T> {
    const task = fn();
    // Handled here so a task nobody awaits (an earlier step failed) is no unhandled rejection.
    this.all.push(task.catch(() => undefined));
    return task;
  }

  async settled(): Promise<void> {
    await Promise.all(this.all);
  }
}

function toStepError(step: string, error: unknown, secrets: readonly string[]): StepError {
  if (error instanceof StepError) return new StepError(error.step, error.reason, redact(error.message, secrets));
  const reason =
    error instanceof NginxConfigError
      ? 'NginxConfigInvalid'
      : error instanceof FpmConfigError
        ? 'PhpFpmConfigInvalid'
        : error instanceof TemplateError
          ? 'TemplateInvalid'
          : error instanceof GitFetchError
            ? 'GitFetchFailed'
            : (STEP_REASONS[step] ?? 'HostStepFailed');
  return new StepError(step, reason, redact(`${step}: ${messageOf(error)}`, secrets));
}
