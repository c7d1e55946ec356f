import { randomBytes } from 'node:crypto';
import type { StepReporter } from '@pressluft/agent-runtime';
import { adminSql, stagingDatabase, swapSql, tablesOf, unswapSql } from '../backup/staging-db.js';
import { messageOf } from '../errors.js';
import { reloadMaster } from '../health.js';
import type { SitePaths, SitePlan } from '../naming.js';
import { hasObjectCache, requireRedis } from '../object-cache.js';
import { flushSiteKeys } from '../redis.js';
import { currentRelease } from '../releases.js';
import { inTree, type Ownership } from '../safe-fs.js';
import { switchTo, type HostContext } from '../site-support.js';
import { OLD_UPLOADS_PREFIX, type RestoreScope } from './restore-stage.js';

export interface StagedRestore {
  readonly paths: SitePaths;
  readonly plan: SitePlan;
  readonly owner: Ownership;
  /** releases/<work>/ */
  readonly work: string;
  readonly scope: RestoreScope;
  /** The staged release `current` moves to; undefined when only the uploads are restored. */
  readonly release: string | undefined;
}

/**
 * The switch of what was restored, each part undone if a later one fails: the release's
 * wp-config.php back to the shared one (and the pool reloaded), tables (one RENAME), uploads (two renames through
 * descriptors), `current`. What is not restored is not touched.
 */
export async function switchAll(ctx: HostContext, staged: StagedRestore, report: StepReporter): Promise<void> {
  const { paths, plan, owner, work, scope, release } = staged;
  const before = await currentRelease(paths);
  const undo: (() => Promise<void>)[] = [];
  try {
    if (release !== undefined) {
      await inTree(paths.root, ['releases', release], (dir) => dir.symlinkAtomic('wp-config.php', '../../shared/wp-config.php', owner));
      // The health check compiled the staged wp-config.php (the staging database) into the pool's
      // opcache, which looks at a file again only every revalidate_freq seconds: a request in the
      // instant between `current` moving and the pool's reload would run it against the staging
      // database, empty by then (WordPress: HTTP 500). A reload now drops it.
      if (scope.database) await reloadMaster(paths);
    }
    if (scope.database) await switchTables(ctx, paths, plan, undo, report);
    if (scope.uploads) await switchUploads(paths, work, undo);
    if (release !== undefined) await switchTo(paths, owner, release, report);
  } catch (error) {
    for (const step of undo.reverse()) await step().catch((e: unknown) => ctx.logger.error({ site: plan.name, err: messageOf(e) }, 'undoing a failed restore switch failed'));
    if (before !== undefined && (await currentRelease(paths)) !== before) await switchTo(paths, owner, before, report).catch(() => undefined);
    throw error;
  }
}

/** The staged tables in, the live ones aside; the object cache (it holds the other database's options) flushed after the switch and after an undo. */
async function switchTables(ctx: HostContext, paths: SitePaths, plan: SitePlan, undo: (() => Promise<void>)[], report: StepReporter): Promise<void> {
  const command = ctx.settings.mariadb.command;
  const live = await tablesOf(command, plan.account);
  const staged = await tablesOf(command, stagingDatabase(plan.account));
  const cache = (await hasObjectCache(paths)) ? requireRedis(ctx.settings) : undefined;
  const flush = async () => {
    if (cache) await report.log(`redis ${plan.account}: ${await flushSiteKeys(cache, plan.account)} cached keys flushed`);
  };
  undo.push(flush);
  await adminSql(command, swapSql(plan.account, live, staged));
  undo.push(() => adminSql(command, unswapSql(plan.account, live, staged)).then(() => undefined));
  await report.log(`database ${plan.account}: ${staged.length} restored tables switched in, ${live.length} live ones moved aside`);
  await flush();
}

/** shared/uploads aside (shared/.uploads-old-*, removed at clean-up), the restored ones in. */
async function switchUploads(paths: SitePaths, work: string, undo: (() => Promise<void>)[]): Promise<void> {
  const oldUploads = `${OLD_UPLOADS_PREFIX}${randomBytes(6).toString('hex')}`;
  await inTree(paths.root, ['shared'], (shared) =>
    inTree(paths.root, ['releases', work, 'shared'], async (restored) => {
      const hadUploads = await shared.rename('uploads', shared, oldUploads);
      if (hadUploads) undo.push(() => inTree(paths.root, ['shared'], async (s) => void (await s.rename(oldUploads, s, 'uploads'))));
      if (!(await restored.rename('uploads', shared, 'uploads'))) throw new Error(`releases/${work}/shared/uploads is gone`);
      undo.push(() => inTree(paths.root, ['shared'], (s) => inTree(paths.root, ['releases', work, 'shared'], async (r) => void (await s.rename('uploads', r, 'uploads')))));
    }),
  );
}
