import { join } from 'node:path';
import type { RestorePart } from '@pressluft/agent-runtime';
import { endsWithTrailer, DUMP_TRAILER } from '../backup/database-dump.js';
import { pipe } from '../backup/pipe.js';
import { PART_FILES, type ResticSession } from '../backup/restic.js';
import { adminSql, cleanupSql, prepareStagingSql, siteClientArgv, siteClientDefaults, stagingDatabase } from '../backup/staging-db.js';
import { StepError } from '../errors.js';
import { BASE_ENV, exec, tail } from '../exec.js';
import { asSiteUser } from '../jail.js';
import { RELEASE_NAME_PATTERN, type SitePaths, type SitePlan } from '../naming.js';
import { removeRelease } from '../releases.js';
import { discard, inTree, type Ownership } from '../safe-fs.js';
import type { HostContext } from '../site-support.js';

/** A restore's working dir in the site's releases/ (the tenant's tree: it can only harm itself there). */
export const RESTORE_PREFIX = '.restore-';
/** The live uploads while the restored ones take their place, until clean-up. */
export const OLD_UPLOADS_PREFIX = '.uploads-old-';

/** What a restore brings back (an empty list: everything), and whether it needs a release of its own. */
export interface RestoreScope {
  readonly code: boolean;
  readonly database: boolean;
  readonly uploads: boolean;
}

/** The parts of a HostRestoreRequest as a scope. Pure. */
export function restoreScope(parts: readonly RestorePart[]): RestoreScope {
  const all = parts.length === 0;
  return { code: all || parts.includes('code'), database: all || parts.includes('database'), uploads: all || parts.includes('uploads') };
}

/**
 * A new release is staged when the code or the database is restored: the backup's release, or
 * (the database alone) a copy of the live one, so the staged database is rewritten and
 * health-checked with the code it will run with. The uploads alone need none.
 */
export function needsRelease(scope: RestoreScope): boolean {
  return scope.code || scope.database;
}

/** The staging and old databases, releases/.restore-* and shared/.uploads-old-* of earlier restores. */
export async function removeLeftovers(ctx: HostContext, paths: SitePaths, plan: SitePlan): Promise<void> {
  await adminSql(ctx.settings.mariadb.command, cleanupSql(plan.account));
  for (const entry of await inTree(paths.root, ['releases'], (releases) => releases.entries())) {
    if (entry.name.startsWith(RESTORE_PREFIX)) await removeRelease(paths, entry.name);
  }
  await inTree(paths.root, ['shared'], async (shared) => {
    for (const entry of await shared.entries()) if (entry.name.startsWith(OLD_UPLOADS_PREFIX)) await discard(shared, entry.name, paths.buildArea, paths.name);
  });
}

/** `restic dump` of the dump into the site's own client, into the staging database; the stream must end with the dump's trailer. */
export async function restoreDatabase(ctx: HostContext, session: ResticSession, snapshot: string, account: string, password: string): Promise<void> {
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

/** A fresh site-owned releases/<work>/ (and its releases/ when a release is staged in it). */
export async function makeWorkDir(paths: SitePaths, owner: Ownership, web: Ownership, work: string, withReleases: boolean): Promise<void> {
  const mode = { mode: 0o750, owner: { uid: owner.uid, gid: web.gid } };
  await inTree(paths.root, ['releases'], async (releases) => {
    const dir = await releases.ensureDir(work, mode);
    try {
      if (withReleases) await (await dir.ensureDir('releases', mode)).close();
    } finally {
      await dir.close();
    }
  });
}

/**
 * `restic dump` of the files' tar into tar -x run AS THE SITE USER in releases/<work>/: the whole
 * archive, or only its releases/ (the code) or shared/uploads. Returns the name of the release
 * inside (the archive's releases/<name>) when the code was restored.
 */
export async function restoreFiles(session: ResticSession, snapshot: string, paths: SitePaths, owner: Ownership, web: Ownership, work: string, scope: RestoreScope): Promise<string | undefined> {
  const file = await session.snapshotFile(snapshot, PART_FILES.files);
  const members = scope.code && scope.uploads ? [] : scope.code ? ['releases'] : ['shared/uploads'];
  const outcome = await pipe({
    producer: { argv: [...session.prefix, 'dump', snapshot, file], env: session.env },
    consumerMayEndFirst: true,
    consumer: { argv: asSiteUser(owner, ['/bin/tar', '-x', '--no-same-owner', '--no-same-permissions', '--one-file-system', '-f', '-', '-C', join(paths.releases, work), '--', ...members]), env: BASE_ENV, cwd: '/' },
    timeoutMs: 3_600_000,
  });
  if (outcome.failure) {
    const detail = outcome.failure.side === 'consumer' ? outcome.consumerErr : outcome.producerErr;
    throw new StepError('files', 'RestoreFailed', session.redact(`extracting the files (as the site user): ${outcome.failure.why}: ${tail(detail)}`));
  }
  const found = scope.code ? await inTree(paths.root, ['releases', work, 'releases'], async (dir) => (await dir.entries()).filter((e) => e.isDirectory() && RELEASE_NAME_PATTERN.test(e.name)).map((e) => e.name)) : [];
  const uploads = scope.uploads ? await inTree(paths.root, ['releases', work, 'shared'], (dir) => dir.lstat('uploads')).catch(() => undefined) : undefined;
  if ((scope.code && found.length !== 1) || (scope.uploads && !uploads?.isDirectory())) {
    throw new StepError('files', 'BackupInvalid', `the backup's files hold ${found.length} releases and ${uploads?.isDirectory() ? 'an' : 'no'} uploads directory, not one release and shared/uploads`);
  }
  // As ensureTree makes it: the site user's, nginx's group, 0750 (tar as the site user gave it the site's own group).
  if (scope.uploads) await inTree(paths.root, ['releases', work, 'shared'], async (dir) => (await dir.ensureDir('uploads', { mode: 0o750, owner: { uid: owner.uid, gid: web.gid } })).close());
  return found[0];
}

/**
 * The live release copied AS THE SITE USER into releases/<work>/releases/<release> (its own
 * files into its own tree: nothing a tenant planted there is followed with more rights than its
 * own), the code a restore without 'code' stages the restored database with.
 */
export async function copyRelease(paths: SitePaths, owner: Ownership, work: string, release: string): Promise<string> {
  const argv = asSiteUser(owner, ['/bin/cp', '-R', '-P', '--preserve=mode,timestamps', '--', join(paths.releases, release), join(paths.releases, work, 'releases', release)]);
  const result = await exec(argv, { env: BASE_ENV, cwd: '/', timeoutMs: 1_800_000 });
  if (result.code !== 0) throw new StepError('files', 'RestoreFailed', `copying release ${release} (as the site user): exited ${String(result.code)}: ${tail(result.stderr)}`);
  return release;
}
