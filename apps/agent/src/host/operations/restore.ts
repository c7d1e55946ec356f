import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { HostRestoreRequest, ReleasesResult, StepReporter } from '@pressluft/agent-runtime';
import { endsWithTrailer, DUMP_TRAILER } from '../backup/database-dump.js';
import { pipe } from '../backup/pipe.js';
import { checkSnapshotId, PART_FILES, ResticSession } from '../backup/restic.js';
import { adminSql, cleanupSql, prepareStagingSql, siteClientArgv, siteClientDefaults, stagingDatabase, swapSql, tablesOf, unswapSql } from '../backup/staging-db.js';
import { failsAs, messageOf, StepError, type StepName } from '../errors.js';
import { BASE_ENV, tail } from '../exec.js';
import { asSiteUser, siteJail, execJailed } from '../jail.js';
import { planSite, RELEASE_NAME_PATTERN, sitePaths, type SitePaths, type SitePlan } from '../naming.js';
import { hasObjectCache, renderObjectCache, requireRedis } from '../object-cache.js';
import { purgePageCache } from '../page-cache.js';
import { flushSiteKeys } from '../redis.js';
import { currentRelease, ensureCachePlugin, listReleases, nextReleaseName, removeRelease } from '../releases.js';
import { discard, inTree, readIfExists, type Ownership } from '../safe-fs.js';
import { healthCheck, requireProvisioned, siteCgroup, siteSalts, switchTo, type HostContext } from '../site-support.js';
import { ensureSiteServerBlock } from '../site-server-block.js';
import { StepRunner } from '../step-runner.js';
import { loadTemplate } from '../template.js';
import { requireUser } from '../users.js';
import { renderWpConfig, wpCliEnv } from '../wordpress.js';

/** A restore's working dir in the site's releases/ (the tenant's tree: it can only harm itself there). */
const RESTORE_PREFIX = '.restore-';
/** The live uploads while the restored ones take their place, until clean-up. */
const OLD_UPLOADS_PREFIX = '.uploads-old-';

/**
 * A backup restored into a provisioned site. Everything is staged beside the live site first:
 * the database into `site_<id>_rs` through the site's OWN database user (so no DEFINER in the
 * dump can escalate), the files extracted by tar AS THE SITE USER into releases/.restore-*; the
 * restored release becomes a new release with a wp-config.php for the staged database, URLs are
 * rewritten (wp search-replace) when the backup's domains differ, and GET / through the site's
 * own pool must answer 200. Only then the switch: one RENAME TABLE (live tables to _old, staged
 * ones in), the release's wp-config.php back to the shared one, shared/uploads swapped, `current`
 * moved, the site's Redis keys flushed. A failure before the switch changed nothing live; a
 * failure during it puts the tables, the uploads and `current` back. A restore that crashed
 * leaves staging leftovers the next one removes first.
 */
export async function restoreSite(ctx: HostContext, request: HostRestoreRequest, report: StepReporter): Promise<ReleasesResult> {
  const plan = await new StepRunner(report, ctx.logger, request.site.name).run('validate', 2, () => {
    const checked = planSite(request.site);
    checkSnapshotId(request.snapshots?.database ?? '');
    checkSnapshotId(request.snapshots?.files ?? '');
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
      const database = run('database', 20, () => failsAs('database', 'RestoreFailed', restoreDatabase(ctx, session, request.snapshots?.database ?? '', plan.account, password)));
      const files = run('files', 40, () => failsAs('files', 'RestoreFailed', restoreFiles(ctx, session, request.snapshots?.files ?? '', paths, owner, web, work)));
      // Both settle before anything else (a clean-up must not race a tar still extracting).
      const [dbDone, filesDone] = await Promise.allSettled([database, files]);
      if (dbDone.status === 'rejected') throw dbDone.reason;
      if (filesDone.status === 'rejected') throw filesDone.reason;
      const restored = filesDone.value;
      release = await run('release', 55, async () => {
        const name = nextReleaseName(await listReleases(paths), new Date());
        await inTree(paths.root, ['releases', work, 'releases'], (from) =>
          inTree(paths.root, ['releases'], async (to) => {
            if (!(await from.rename(restored, to, name))) throw new Error(`releases/${work}/releases/${restored} is gone`);
          }),
        );
        const salts = await siteSalts(paths);
        steps.secrets.push(...Object.values(salts));
        const staged = renderWpConfig(loadTemplate(ctx.templatesDir, 'wordpress/wp-config.php.tmpl'), plan, paths, ctx.settings.mariadb.socket, password, salts, renderObjectCache(loadTemplate(ctx.templatesDir, 'wordpress/redis-object-cache.php.tmpl'), undefined), stagingDatabase(plan.account));
        await inTree(paths.root, ['releases', name], (dir) => dir.writeFileAtomic('wp-config.php', staged, { mode: 0o640, owner: { uid: 0, gid: owner.gid } }));
        await ensureCachePlugin(paths, name, loadTemplate(ctx.templatesDir, 'wordpress/pressluft-cache.php'), owner);
        await report.log(`release ${name}: restored from release ${restored} of the backup ${request.backup}`);
        return name;
      });
      const from = request.sourceDomains[0];
      const to = plan.domains[0] ?? '';
      if (from !== undefined && from !== '' && from !== to) {
        await run('wordpress', 62, () => searchReplace(ctx, paths, plan, owner, release ?? '', from, to, report));
      }
      await run('health', 70, () => healthCheck(ctx, paths, to, release ?? ''));
      await run('switch', 85, async () => {
        const target = release ?? '';
        await ensureSiteServerBlock(ctx, request.site, (line) => report.log(line));
        await switchAll(ctx, paths, plan, owner, work, target, report);
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
    await report.log(`restore of ${request.backup} done: current -> releases/${release}, releases/${previous} kept for a rollback`);
    return { currentRelease: release, releases: await listReleases(paths) };
  });
}

/** The staging and old databases, releases/.restore-* and shared/.uploads-old-* of earlier restores. */
async function removeLeftovers(ctx: HostContext, paths: SitePaths, plan: SitePlan): Promise<void> {
  await adminSql(ctx.settings.mariadb.command, cleanupSql(plan.account));
  for (const entry of await inTree(paths.root, ['releases'], (releases) => releases.entries())) {
    if (entry.name.startsWith(RESTORE_PREFIX)) await removeRelease(paths, entry.name);
  }
  await inTree(paths.root, ['shared'], async (shared) => {
    for (const entry of await shared.entries()) if (entry.name.startsWith(OLD_UPLOADS_PREFIX)) await discard(shared, entry.name, paths.buildArea, paths.name);
  });
}

/** `restic dump` of the dump into the site's own client, into the staging database; the stream must end with the dump's trailer. */
async function restoreDatabase(ctx: HostContext, session: ResticSession, snapshot: string, account: string, password: string): Promise<void> {
  await adminSql(ctx.settings.mariadb.command, prepareStagingSql(account));
  const file = await session.snapshotFile(snapshot, PART_FILES.database);
  const defaults = await session.privateFile('site-client.cnf', siteClientDefaults(account, password, ctx.settings.mariadb.socket));
  const outcome = await pipe({
    producer: { argv: [...session.prefix, 'dump', snapshot, file], env: session.env },
    consumer: { argv: siteClientArgv(ctx.settings.mariadb.command[0] ?? '/usr/bin/mariadb', defaults, account), env: BASE_ENV },
    timeoutMs: 3_600_000,
    judge: (last) => (endsWithTrailer(last) ? undefined : `the stored dump does not end with "${DUMP_TRAILER}" (an incomplete backup)`),
  });
  if (outcome.failure) {
    const detail = outcome.failure.side === 'consumer' ? outcome.consumerErr : outcome.producerErr;
    throw new StepError('database', 'RestoreFailed', session.redact(`restoring the database into ${stagingDatabase(account)}: ${outcome.failure.why}: ${tail(detail)}`));
  }
}

/**
 * `restic dump` of the files' tar into tar -x run AS THE SITE USER in a fresh site-owned
 * releases/<work>/; returns the name of the release inside (the archive's releases/<name>).
 */
async function restoreFiles(ctx: HostContext, session: ResticSession, snapshot: string, paths: SitePaths, owner: Ownership, web: Ownership, work: string): Promise<string> {
  await inTree(paths.root, ['releases'], async (releases) => (await releases.ensureDir(work, { mode: 0o750, owner: { uid: owner.uid, gid: web.gid } })).close());
  const file = await session.snapshotFile(snapshot, PART_FILES.files);
  const outcome = await pipe({
    producer: { argv: [...session.prefix, 'dump', snapshot, file], env: session.env },
    consumerMayEndFirst: true,
    consumer: { argv: asSiteUser(owner, ['/bin/tar', '-x', '--no-same-owner', '--no-same-permissions', '--one-file-system', '-f', '-', '-C', join(paths.releases, work)]), env: BASE_ENV, cwd: '/' },
    timeoutMs: 3_600_000,
  });
  if (outcome.failure) {
    const detail = outcome.failure.side === 'consumer' ? outcome.consumerErr : outcome.producerErr;
    throw new StepError('files', 'RestoreFailed', session.redact(`extracting the files (as the site user): ${outcome.failure.why}: ${tail(detail)}`));
  }
  const found = await inTree(paths.root, ['releases', work, 'releases'], async (dir) => (await dir.entries()).filter((e) => e.isDirectory() && RELEASE_NAME_PATTERN.test(e.name)).map((e) => e.name));
  const uploads = await inTree(paths.root, ['releases', work, 'shared'], (dir) => dir.lstat('uploads')).catch(() => undefined);
  if (found.length !== 1 || !uploads?.isDirectory()) throw new StepError('files', 'BackupInvalid', `the backup's files hold ${found.length} releases and ${uploads?.isDirectory() ? 'an' : 'no'} uploads directory, not one release and shared/uploads`);
  // As ensureTree makes it: the site user's, nginx's group, 0750 (tar as the site user gave it the site's own group).
  await inTree(paths.root, ['releases', work, 'shared'], async (dir) => (await dir.ensureDir('uploads', { mode: 0o750, owner: { uid: owner.uid, gid: web.gid } })).close());
  return found[0] ?? '';
}

/** `wp search-replace //<from> //<to>` in the staged database (WP-CLI as the site user in its jail, on the restored release). */
async function searchReplace(ctx: HostContext, paths: SitePaths, plan: SitePlan, owner: Ownership, release: string, from: string, to: string, report: StepReporter): Promise<void> {
  const group = await siteCgroup(ctx, plan);
  const jail = await siteJail(ctx.settings, ctx.templatesDir, paths, { cgroupDirs: group?.dirs ?? [], cwd: paths.tmp, pidNamespace: true });
  const argv = [...ctx.settings.wpCli, 'search-replace', `//${from}`, `//${to}`, '--all-tables-with-prefix', '--skip-columns=guid', '--skip-plugins', '--skip-themes', `--path=${join(paths.releases, release)}`];
  const result = await execJailed(jail, owner, argv, { env: wpCliEnv(ctx.templatesDir, paths), timeoutMs: 600_000 });
  if (result.code !== 0) throw new StepError('wordpress', 'RestoreFailed', `wp search-replace //${from} //${to} exited ${String(result.code)}: ${tail(result.stderr || result.stdout)}`);
  await report.log(`wordpress: URLs //${from} rewritten to //${to} in the restored database`);
}

/**
 * The switch, each part undone if a later one fails: tables (one RENAME), the release's
 * wp-config.php back to the shared one, uploads (two renames through descriptors), `current`.
 */
async function switchAll(ctx: HostContext, paths: SitePaths, plan: SitePlan, owner: Ownership, work: string, release: string, report: StepReporter): Promise<void> {
  const command = ctx.settings.mariadb.command;
  const live = await tablesOf(command, plan.account);
  const staged = await tablesOf(command, stagingDatabase(plan.account));
  const before = await currentRelease(paths);
  const oldUploads = `${OLD_UPLOADS_PREFIX}${randomBytes(6).toString('hex')}`;
  const undo: (() => Promise<void>)[] = [];
  // The object cache holds the other database's options: flushed after the switch and after an undo (a flush is harmless).
  const cache = (await hasObjectCache(paths)) ? requireRedis(ctx.settings) : undefined;
  const flush = async () => {
    if (cache) await report.log(`redis ${plan.account}: ${await flushSiteKeys(cache, plan.account)} cached keys flushed`);
  };
  try {
    undo.push(flush);
    await adminSql(command, swapSql(plan.account, live, staged));
    undo.push(() => adminSql(command, unswapSql(plan.account, live, staged)).then(() => undefined));
    await report.log(`database ${plan.account}: ${staged.length} restored tables switched in, ${live.length} live ones moved aside`);
    await flush();
    await inTree(paths.root, ['releases', release], (dir) => dir.symlinkAtomic('wp-config.php', '../../shared/wp-config.php', owner));
    await inTree(paths.root, ['shared'], (shared) =>
      inTree(paths.root, ['releases', work, 'shared'], async (restored) => {
        const hadUploads = await shared.rename('uploads', shared, oldUploads);
        if (hadUploads) undo.push(() => inTree(paths.root, ['shared'], async (s) => void (await s.rename(oldUploads, s, 'uploads'))));
        if (!(await restored.rename('uploads', shared, 'uploads'))) throw new Error(`releases/${work}/shared/uploads is gone`);
        undo.push(() => inTree(paths.root, ['shared'], (s) => inTree(paths.root, ['releases', work, 'shared'], async (r) => void (await s.rename('uploads', r, 'uploads')))));
      }),
    );
    await switchTo(paths, owner, release, report);
  } catch (error) {
    for (const step of undo.reverse()) await step().catch((e: unknown) => ctx.logger.error({ site: plan.name, err: messageOf(e) }, 'undoing a failed restore switch failed'));
    if (before !== undefined && (await currentRelease(paths)) !== before) await switchTo(paths, owner, before, report).catch(() => undefined);
    throw error;
  }
}
