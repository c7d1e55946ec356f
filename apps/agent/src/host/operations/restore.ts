import { randomBytes } from 'node:crypto';
import type { HostRestoreRequest, ReleasesResult, StepReporter } from '@pressluft/agent-runtime';
import { domainRewrites } from '@pressluft/domain';
import { checkSnapshotId, ResticSession } from '../backup/restic.js';
import { stagingDatabase } from '../backup/staging-db.js';
import { failsAs, messageOf, StepError, type StepName } from '../errors.js';
import { planSite, sitePaths } from '../naming.js';
import { renderObjectCache } from '../object-cache.js';
import { recordReleaseCommit, releaseCommit } from '../release-commits.js';
import { purgePageCache } from '../page-cache.js';
import { ensureNodePlugins, listReleases, nextReleaseName, removeRelease } from '../releases.js';
import { inTree, readIfExists } from '../safe-fs.js';
import { healthCheck, requireProvisioned, siteSalts, type HostContext } from '../site-support.js';
import { ensureSiteServerBlock } from '../site-server-block.js';
import { isStaging, stagingPlugin } from '../staging.js';
import { StepRunner } from '../step-runner.js';
import { loadTemplate } from '../template.js';
import { requireUser } from '../users.js';
import { renderWpConfig } from '../wordpress.js';
import { copyRelease, makeWorkDir, needsRelease, removeLeftovers, restoreDatabase, restoreFiles, restoreScope, RESTORE_PREFIX } from './restore-stage.js';
import { switchAll } from './restore-switch.js';
import { markNotPublic, searchReplace } from './restore-wordpress.js';

/**
 * A backup restored into a provisioned site, all of it or only some parts (request.parts: code,
 * database, uploads; what is not restored stays exactly as it was). Everything is staged beside
 * the live site first: the database into `site_<id>_rs` through the site's OWN database user (so
 * no DEFINER in the dump can escalate), the files extracted by tar AS THE SITE USER into
 * releases/.restore-*. The code or the database brings a new release (the backup's, or without
 * 'code' a copy of the live one made as the site user) with a wp-config.php for the staged
 * database; URLs are rewritten (wp search-replace) when the backup's domains differ, a staging
 * site's blog_public set to 0, and GET / through the site's own pool must answer 200. Only then
 * the switch (restore-switch.ts); the site's page cache is emptied. A failure before the switch
 * changed nothing live; a failure during it puts back what it had moved. A restore that crashed
 * leaves staging leftovers the next one removes first.
 */
export async function restoreSite(ctx: HostContext, request: HostRestoreRequest, report: StepReporter): Promise<ReleasesResult> {
  const scope = restoreScope(request.parts);
  const plan = await new StepRunner(report, ctx.logger, request.site.name).run('validate', 2, () => {
    const checked = planSite(request.site);
    if (scope.database) checkSnapshotId(request.snapshots?.database ?? '');
    if (scope.code || scope.uploads) checkSnapshotId(request.snapshots?.files ?? '');
    return Promise.resolve(checked);
  });
  return ctx.releaseQueue.run(plan.name, async () => {
    const steps = new StepRunner(report, ctx.logger, plan.name);
    const run = <T>(step: StepName, percent: number, fn: () => Promise<T>) => steps.run(step, percent, fn);
    const { paths, owner, web, previous, password } = await run('validate', 3, async () => {
      const paths = sitePaths(ctx.settings, plan.name, plan.id);
      const previous = await requireProvisioned(paths, plan.name, plan.id);
      const password = (await readIfExists(paths.dbPasswordFile))?.trim();
      if (!password) throw new StepError('validate', 'SiteNotProvisioned', `site ${plan.name} has no database password on this node`);
      steps.secrets.push(password);
      return { paths, owner: await requireUser(plan.account), web: await requireUser(ctx.settings.nginx.user), previous, password };
    });
    await run('restore', 5, () => removeLeftovers(ctx, paths, plan));
    const session = await run('store', 8, async () => {
      const opened = await ResticSession.open(ctx.settings.stateDir, request.store, ctx.settings.resticUser ? await requireUser(ctx.settings.resticUser) : undefined);
      steps.secrets.push(...opened.secrets);
      await opened.ensureRepository(false).catch(async (error: unknown) => {
        await opened.close();
        throw error;
      });
      return opened;
    });
    const work = `${RESTORE_PREFIX}${randomBytes(6).toString('hex')}`;
    let release: string | undefined;
    let switched = false;
    try {
      const database = scope.database ? run('database', 20, () => failsAs('database', 'RestoreFailed', restoreDatabase(ctx, session, request.snapshots?.database ?? '', plan.account, password))) : undefined;
      // The release to stage (the backup's, or a copy of the live one) and the uploads, in releases/<work>/.
      const stageFiles = async () => {
        await makeWorkDir(paths, owner, web, work, needsRelease(scope));
        const restored = scope.code || scope.uploads ? await restoreFiles(session, request.snapshots?.files ?? '', paths, owner, web, work, scope) : undefined;
        return restored ?? (scope.database ? copyRelease(paths, owner, work, previous) : undefined);
      };
      const files = run('files', 40, () => failsAs('files', 'RestoreFailed', stageFiles()));
      // Both settle before anything else (a clean-up must not race a tar still extracting).
      const [dbDone, filesDone] = await Promise.allSettled([database, files]);
      if (dbDone.status === 'rejected') throw dbDone.reason;
      if (filesDone.status === 'rejected') throw filesDone.reason;
      const staged = filesDone.value;
      if (staged !== undefined) {
        release = await run('release', 55, async () => {
          const name = nextReleaseName(await listReleases(paths), new Date());
          await inTree(paths.root, ['releases', work, 'releases'], (from) =>
            inTree(paths.root, ['releases'], async (to) => {
              if (!(await from.rename(staged, to, name))) throw new Error(`releases/${work}/releases/${staged} is gone`);
            }),
          );
          if (scope.database) {
            const salts = await siteSalts(paths);
            steps.secrets.push(...Object.values(salts));
            const config = renderWpConfig(loadTemplate(ctx.templatesDir, 'wordpress/wp-config.php.tmpl'), plan, paths, ctx.settings.mariadb.socket, password, salts, renderObjectCache(loadTemplate(ctx.templatesDir, 'wordpress/redis-object-cache.php.tmpl'), undefined), stagingDatabase(plan.account));
            await inTree(paths.root, ['releases', name], (dir) => dir.writeFileAtomic('wp-config.php', config, { mode: 0o640, owner: { uid: 0, gid: owner.gid } }));
          } else {
            await inTree(paths.root, ['releases', name], (dir) => dir.symlinkAtomic('wp-config.php', '../../shared/wp-config.php', owner));
          }
          await ensureNodePlugins(paths, name, loadTemplate(ctx.templatesDir, 'wordpress/pressluft-cache.php'), stagingPlugin(ctx.templatesDir, request.site), owner);
          await report.log(scope.code ? `release ${name}: restored from release ${staged} of the backup ${request.backup}` : `release ${name}: the code of release ${staged}, for the database of the backup ${request.backup}`);
          return name;
        });
      }
      const to = plan.domains[0] ?? '';
      if (scope.database && release !== undefined) {
        const wordpress = { ctx, paths, plan, owner, release };
        // Each of the backup's domains to the site's at the same place (the rest to its first).
        for (const rewrite of domainRewrites(request.sourceDomains, plan.domains)) await run('wordpress', 62, () => searchReplace(wordpress, rewrite.from, rewrite.to, report));
        if (isStaging(request.site)) await run('wordpress', 65, () => markNotPublic(wordpress, report));
      }
      if (release !== undefined) {
        const target = release;
        await run('health', 70, () => healthCheck(ctx, paths, to, target));
      }
      await run('switch', 85, async () => {
        await ensureSiteServerBlock(ctx, request.site, (line) => report.log(line));
        await switchAll(ctx, { paths, plan, owner, work, scope, release }, report);
        switched = true;
        await purgePageCache(ctx, plan.name, plan.id);
        await report.log('page cache purged');
      });
    } catch (error) {
      if (!switched && release !== undefined) await removeRelease(paths, release).catch((e: unknown) => ctx.logger.warn({ site: plan.name, err: messageOf(e) }, 'removing the restored release failed'));
      // A restic dump killed mid-way left its lock.
      await session.unlockStale().catch((e: unknown) => ctx.logger.warn({ site: plan.name, err: session.redact(messageOf(e)) }, 'restic unlock failed'));
      throw error;
    } finally {
      await session.close();
      await run('prune', 95, () => removeLeftovers(ctx, paths, plan)).catch((error: unknown) => ctx.logger.warn({ site: plan.name, err: messageOf(error) }, 'restore clean-up failed (the next restore retries it)'));
    }
    // The restored release was built from the backup's commit; a copy of the live one from the live one's.
    const commit = release === undefined ? '' : scope.code ? (request.gitCommit ?? '') : await releaseCommit(paths, previous);
    const releases = await listReleases(paths);
    if (release !== undefined && commit !== '') await recordReleaseCommit(paths, release, commit, releases);
    const parts = request.parts.length === 0 ? 'everything' : request.parts.join(', ');
    await report.log(`restore of ${request.backup} (${parts}) done: ${release !== undefined ? `current -> releases/${release}, releases/${previous} kept for a rollback` : `releases/${previous} still current`}`);
    return { currentRelease: release ?? previous, releases };
  });
}
