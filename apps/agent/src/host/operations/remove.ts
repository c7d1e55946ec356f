import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type { StepReporter } from '@pressluft/agent-runtime';
import { SiteCgroup } from '../cgroup.js';
import type { StepName } from '../errors.js';
import { removeDatabase } from '../mariadb.js';
import { hasObjectCache, removeObjectCache } from '../object-cache.js';
import { accountName, checkId, checkName, sitePaths } from '../naming.js';
import { removeServerBlock } from '../nginx.js';
import { removePageCacheDir } from '../page-cache.js';
import { discard, Dir, isErrno, removeTree } from '../safe-fs.js';
import { stopMaster } from '../php-fpm.js';
import { readIdentity, type HostContext } from '../site-support.js';
import { StepRunner } from '../step-runner.js';
import { removeUser } from '../users.js';

/** Removes everything of the site, in reverse order; each step tolerates "already gone". */
export async function remove(ctx: HostContext, name: string, id: string, report: StepReporter): Promise<void> {
  const steps = new StepRunner(report, ctx.logger, name);
  const run = (step: StepName, percent: number, fn: () => Promise<void>) => steps.run(step, percent, fn);
  const account = accountName(checkId(id));
  const paths = sitePaths(ctx.settings, checkName(name), id);
  const identity = await readIdentity(paths.identityFile);
  // Name-keyed things (tree, state, PHP-FPM dir) belong to whichever id the node recorded for the name.
  const ownsName = identity === undefined || identity.id === id;
  if (!ownsName) await report.log(`site ${name} on this node has id ${identity?.id ?? '?'}: only ${account}'s user, database and server block are removed`);

  await run('nginx', 5, async () => {
    if (await removeServerBlock(ctx.settings.nginx.command, paths.nginxFile)) await report.log(`nginx: server block ${paths.nginxFile} removed`);
    // The certificate and key it served (keyed by id like the block, in a root-only area).
    await removeTree(paths.tlsDir);
    // By id, like the block: no zone names the directory any more.
    if (await removePageCacheDir(paths)) await report.log(`page cache ${paths.pageCacheDir} removed`);
  });
  if (ownsName) {
    await run('php-fpm', 20, async () => {
      if (await stopMaster(paths.fpmPid, paths.fpmConfig)) await report.log(`php-fpm ${account}: stopped`);
      await ctx.purgeSockets.close(paths.purgeSocket);
      await rm(paths.fpmDir, { recursive: true, force: true });
      await rm(paths.fpmSocketDir, { recursive: true, force: true });
    });
  }
  await run('cgroup', 35, async () => {
    if (ctx.settings.cgroup) await (await SiteCgroup.locate(ctx.settings.cgroup, account)).remove();
  });
  await run('database', 50, async () => {
    await removeDatabase(ctx.settings.mariadb.command, account);
  });
  // The password file exists while the site may have a Redis user (object-cache.ts): a site that
  // never had one is removed without Redis. Under a name another id holds, the user is looked for anyway.
  const redis = ctx.settings.redis;
  if (redis && (!ownsName || (await hasObjectCache(paths)))) {
    await run('redis', 55, async () => {
      const keys = await removeObjectCache(redis, account, ownsName ? paths : undefined);
      await report.log(`redis ${account}: no user left, ${keys} keys removed`);
    });
  }
  if (ownsName) {
    await run('tree', 65, async () => {
      // The site's processes died with its cgroup (above). Its tree leaves the tenant's reach by one
      // rename (the sites root is root's) and is removed in the build area without following links.
      await Dir.with(ctx.settings.sitesRoot, [], async (sites) => {
        await (await sites.ensureDir(basename(paths.buildArea), { mode: 0o700 })).close();
        await discard(sites, paths.name, paths.buildArea, paths.name);
      }).catch((error: unknown) => {
        if (!isErrno(error, 'ENOENT')) throw error; // no sites root: nothing to remove
      });
    });
    await run('state', 80, async () => {
      // Root-owned parents: removed in place (the composer home is the site user's, its parent root's).
      await removeTree(paths.state);
      await removeTree(paths.composerHome);
    });
  }
  await run('user', 90, async () => {
    await removeUser(account);
  });
}
