import { rm } from 'node:fs/promises';
import type { StepReporter } from '@pressluft/agent-runtime';
import { pendingPasswordFile, ROTATION_GRACE_MS, rotationPasswords, tryLogin } from '../credentials.js';
import { StepError, type StepName } from '../errors.js';
import { readIfExists, writeFileAtomic } from '../safe-fs.js';
import { setPasswords } from '../mariadb.js';
import { ObjectCacheRotation, renderObjectCache } from '../object-cache.js';
import { accountName, checkId, checkName, sitePaths } from '../naming.js';
import { ensureWpConfig, firstDomain, requireProvisioned, requireServing, siteSalts, type HostContext } from '../site-support.js';
import { StepRunner } from '../step-runner.js';
import { loadTemplate } from '../template.js';
import { requireUser } from '../users.js';
import { randomString, renderWpConfig } from '../wordpress.js';

/**
 * A new database password for the site, without a failed request (see credentials.ts): the
 * database accepts old and new while wp-config.php switches atomically and PHP's OPcache and
 * in-flight requests catch up, then only the new one. Resumes an interrupted rotation. The
 * passwords appear in no argv, log line, progress or error. A site with a Redis object cache
 * gets a new Redis password the same way, in the same steps (object-cache.ts).
 */
export async function rotateDatabasePassword(ctx: HostContext, name: string, id: string, report: StepReporter): Promise<{ rotatedAt: string }> {
  await new StepRunner(report, ctx.logger, name).run('validate', 5, () => {
    checkName(name);
    checkId(id);
    return Promise.resolve();
  });
  return ctx.releaseQueue.run(name, async () => {
    const steps = new StepRunner(report, ctx.logger, name);
    const { secrets } = steps;
    const run = <T>(step: StepName, percent: number, fn: () => Promise<T>) => steps.run(step, percent, fn);
    const account = accountName(id);
    const mariadb = ctx.settings.mariadb;
    const { paths, owner, domain, old, next, cache } = await run('validate', 5, async () => {
      const paths = sitePaths(ctx.settings, name, id);
      await requireProvisioned(paths, name, id);
      const owner = await requireUser(account);
      const domain = await firstDomain(paths);
      const passwords = rotationPasswords(await readIfExists(paths.dbPasswordFile), await readIfExists(pendingPasswordFile(paths)), () => randomString(32));
      secrets.push(passwords.old, passwords.next);
      if (passwords.resumed) await report.log(`database ${account}: resuming an interrupted password rotation`);
      // Written before the database hears of it: from here on a crash is resumable.
      else await writeFileAtomic(pendingPasswordFile(paths), `${passwords.next}\n`, { mode: 0o600 });
      const cache = await ObjectCacheRotation.start(ctx.settings, account, paths);
      if (cache) secrets.push(cache.old, cache.next);
      return { paths, owner, domain, ...passwords, cache };
    });
    await run('database', 20, () => setPasswords(mariadb.command, account, [next, old]));
    if (cache) await run('redis', 30, () => cache.accept());
    const switched = await run('wp-config', 40, async () => {
      const salts = await siteSalts(paths);
      secrets.push(...Object.values(salts));
      const objectCache = renderObjectCache(loadTemplate(ctx.templatesDir, 'wordpress/redis-object-cache.php.tmpl'), cache?.login);
      const content = renderWpConfig(loadTemplate(ctx.templatesDir, 'wordpress/wp-config.php.tmpl'), { name, account, domains: [domain] }, paths, mariadb.socket, next, salts, objectCache);
      await ensureWpConfig(paths, content, owner);
      return Date.now();
    });
    await run('drain', 55, () => new Promise<void>((resolve) => setTimeout(resolve, ROTATION_GRACE_MS)));
    await run('revoke', 70, async () => {
      await setPasswords(mariadb.command, account, [next]);
      await cache?.revoke();
    });
    await run('state', 80, async () => {
      await writeFileAtomic(paths.dbPasswordFile, `${next}\n`, { mode: 0o600 });
      await rm(pendingPasswordFile(paths), { force: true });
      await cache?.store();
    });
    await run('verify', 90, async () => {
      await requireServing(ctx, domain, () => report.progress('verify', 90));
      const client = mariadb.command[0] ?? '/usr/bin/mariadb';
      const [oldLogin, newLogin] = [await tryLogin(client, paths.state, mariadb.socket, account, old), await tryLogin(client, paths.state, mariadb.socket, account, next)];
      if (oldLogin !== 'denied') throw new StepError('verify', 'OldDatabasePasswordValid', `database user ${account}: the old password is still ${oldLogin === 'accepted' ? 'accepted' : 'not clearly denied'}`);
      if (newLogin !== 'accepted') throw new StepError('verify', 'NewDatabasePasswordRejected', `database user ${account}: the new password is ${newLogin === 'denied' ? 'denied' : 'not clearly accepted'}`);
      await cache?.verify();
    });
    ctx.logger.info({ site: name, graceMs: ROTATION_GRACE_MS, sinceSwitchMs: Date.now() - switched }, 'database password rotated');
    await report.log(`database ${account}: password rotated${cache ? ', redis password rotated' : ''}, wp-config.php updated`);
    return { rotatedAt: new Date().toISOString() };
  });
}
