import { join } from 'node:path';
import type { ProvisionResult, StepReporter } from '@pressluft/agent-runtime';
import type { SiteConfig } from '@pressluft/proto';
import { StepError, type StepName } from '../errors.js';
import { readIfExists, writeFileAtomic } from '../safe-fs.js';
import { pendingPasswordFile } from '../credentials.js';
import { ensureDeployKey } from '../deploy-key.js';
import { ensureDatabase } from '../mariadb.js';
import { ensureObjectCache, hasObjectCache, removeObjectCache, renderObjectCache, requireRedis } from '../object-cache.js';
import { planSite, releaseName, sitePaths } from '../naming.js';
import { ensureFirstRelease } from '../releases.js';
import { ensureSecret } from '../secrets.js';
import { ensureStateDirs, ensureTree, ensureWpConfig, readIdentity, requireServing, siteCgroup, siteSalts, type HostContext } from '../site-support.js';
import { ensureSiteServerBlock } from '../site-server-block.js';
import { stagingPlugin } from '../staging.js';
import { StepRunner } from '../step-runner.js';
import { TaskGroup } from '../task-group.js';
import { loadTemplate } from '../template.js';
import { ensureUser, requireUser } from '../users.js';
import { ensureInstalled, randomString, renderWpConfig } from '../wordpress.js';
import { siteJail } from '../jail.js';
import { ensureSiteMaster } from './site-master.js';

/**
 * `serve: false` (a clone, whose restore serves the site once the source's content is in): no
 * nginx server block and no verify, so the fresh WordPress is never served.
 */
export async function provision(ctx: HostContext, site: SiteConfig, report: StepReporter, options: { readonly serve: boolean } = { serve: true }): Promise<ProvisionResult> {
  const steps = new StepRunner(report, ctx.logger, site.name);
  const { secrets } = steps;
  const run = <T>(step: StepName, percent: number, fn: () => Promise<T>) => steps.run(step, percent, fn);
  const { plan, paths } = await run('validate', 2, async () => {
    const plan = planSite(site);
    const paths = sitePaths(ctx.settings, plan.name, plan.id);
    await ensureStateDirs(ctx.settings, paths);
    const identity = await readIdentity(paths.identityFile);
    if (identity && identity.id !== plan.id) {
      throw new StepError('validate', 'SiteIdConflict', `this node still holds site ${plan.name} with id ${identity.id}; remove it before provisioning id ${plan.id}`);
    }
    if (!identity) await writeFileAtomic(paths.identityFile, `${JSON.stringify({ name: plan.name, id: plan.id })}\n`, { mode: 0o600 });
    // The site's deploy key, made once, here: its public half goes to the control plane with every state.
    if ((await ensureDeployKey(paths)).created) await report.log(`deploy key: made for site ${plan.name}`);
    return { plan, paths };
  });

  const { owner, web } = await run('user', 5, async () => {
    const web = await requireUser(ctx.settings.nginx.user);
    const { uid, gid, created } = await ensureUser(plan.account, paths.root, `pressluft site ${plan.name}`);
    if (created) await report.log(`user ${plan.account}: created, uid ${uid}`);
    return { owner: { uid, gid }, web };
  });

  await run('tree', 10, () => ensureTree(ctx.settings, paths, owner, web));

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
      const { created } = await ensureDatabase(ctx.settings.mariadb.command, plan.account, password, pending ? [pending] : []);
      return { password, created };
    });
    // The site's Redis user when spec.cache.redis is on; when it is off, one the site had is removed.
    const hadCache = await hasObjectCache(paths);
    const cache = tasks.start(async () => {
      if (plan.cache.redis) return ensureObjectCache(requireRedis(ctx.settings), plan.account, paths, secrets);
      if (hadCache) await removeObjectCache(requireRedis(ctx.settings), plan.account, paths);
      return undefined;
    });
    const cgroup = tasks.start(() => siteCgroup(ctx, plan));
    const fpm = tasks.start(async () => ensureSiteMaster(ctx, plan, paths, web, await cgroup, ctx.masterExit));
    const wpConfig = tasks.start(async () => {
      const { password } = await database;
      const salts = await siteSalts(paths);
      secrets.push(...Object.values(salts));
      const objectCache = renderObjectCache(loadTemplate(ctx.templatesDir, 'wordpress/redis-object-cache.php.tmpl'), await cache);
      const content = renderWpConfig(loadTemplate(ctx.templatesDir, 'wordpress/wp-config.php.tmpl'), plan, paths, ctx.settings.mariadb.socket, password, salts, objectCache);
      await ensureWpConfig(paths, content, owner);
    });
    const release = tasks.start(() => ensureFirstRelease({ source: ctx.settings.wordpressSource, coreCache: join(ctx.settings.stateDir, 'wordpress-core'), paths, owner, name: releaseName(new Date()), cachePlugin: loadTemplate(ctx.templatesDir, 'wordpress/pressluft-cache.php'), stagingPlugin: stagingPlugin(ctx.templatesDir, site) }));
    const install = tasks.start(async () => {
      const [{ created }] = await Promise.all([database, wpConfig, release]);
      const adminPassword = await ensureSecret(paths.adminPasswordFile, () => randomString(24));
      secrets.push(adminPassword);
      const jail = await siteJail(ctx.settings, ctx.templatesDir, paths, { cgroupDirs: (await cgroup)?.dirs ?? [], cwd: paths.tmp, pidNamespace: true });
      return ensureInstalled(ctx.settings.wpCli, jail, ctx.templatesDir, paths, plan, owner, adminPassword, created);
    });

    await run('database', 15, () => database);
    if (plan.cache.redis || hadCache) {
      await run('redis', 20, async () => {
        if (!(await cache)) await report.log(`redis ${plan.account}: object cache off, user and keys removed`);
      });
    }
    await run('cgroup', 25, () => cgroup);
    await run('php-fpm', 30, async () => {
      const result = await fpm;
      if (result.action !== 'unchanged') await report.log(`php-fpm ${plan.account}: ${result.action} (pid ${result.pid})`);
    });
    await run('wp-config', 40, () => wpConfig);
    const current = await run('release', 45, async () => {
      const result = await release;
      if (result.created) await report.log(`release ${result.release}: WordPress core from ${ctx.settings.wordpressSource}${result.linked ? ' (hard links)' : ''}`);
      return result.release;
    });
    await run('wordpress', 60, async () => {
      const result = await install;
      ctx.logger.debug({ site: plan.name, checkMs: result.checkMs, installMs: result.installMs }, 'wp-cli');
      if (result.installed) await report.log(`wordpress: installed, admin ${plan.wordpress.adminUser}`);
    });

    if (options.serve) {
      await run('nginx', 85, () => ensureSiteServerBlock(ctx, site, (line) => report.log(line)));
      await run('verify', 95, () => verifyServing(ctx, plan.name, plan.domains[0] ?? '', report));
    }

    return { url: `http://${plan.domains[0] ?? ''}/`, currentRelease: current };
  } finally {
    await tasks.settled();
  }
}

/** The `verify` step: the site answers 200 by its domain through nginx (requireServing), its attempts logged at debug. */
export async function verifyServing(ctx: HostContext, name: string, domain: string, report: StepReporter): Promise<void> {
  const attempts: Array<{ status: number | string; ms: number }> = [];
  try {
    await requireServing(ctx, domain, () => report.progress('verify', 95), (a) => attempts.push(a));
  } finally {
    ctx.logger.debug({ site: name, attempts }, 'verify');
  }
}
