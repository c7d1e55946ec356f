import { hostname } from 'node:os';
import type { HostBackupRequest, StepReporter } from '@pressluft/agent-runtime';
import type { BackupResult } from '@pressluft/proto';
import { dumpDatabaseToRestic, nonInnodbTables } from '../backup/database-dump.js';
import { archiveFilesToRestic } from '../backup/files.js';
import { renderManifest, serverNames } from '../backup/manifest.js';
import { releaseCommit } from '../release-commits.js';
import { backupArgs, backupTags, PART_FILES, ResticSession, type BackupPart } from '../backup/restic.js';
import { failsAs, messageOf, StepError, type StepName } from '../errors.js';
import { accountName, checkId, checkName, sitePaths } from '../naming.js';
import { releaseWordPressVersion } from '../releases.js';
import { readIfExists } from '../safe-fs.js';
import { requireProvisioned, type HostContext } from '../site-support.js';
import { StepRunner } from '../step-runner.js';
import { TaskGroup } from '../task-group.js';
import { requireUser } from '../users.js';

/** A Backup resource's name as a tag value (a Kubernetes name). */
const BACKUP_NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** Progress with counts at most this often per part. */
const PROGRESS_EVERY_MS = 1000;

/**
 * A site's backup: three restic snapshots with the stable tags pressluft, site=, site-id=, part=,
 * backup= (the database as a checked dump pipe, the current release and shared/uploads as one tar
 * read as the site user, and a manifest), all at one --time, the three side by side. A part that fails fails the backup (BackupFailed) and the snapshots the other
 * parts made are forgotten at once: a FAILED backup leaves no snapshot tagged with its name.
 * The site keeps serving throughout (reads only).
 */
export async function backupSite(ctx: HostContext, request: HostBackupRequest, report: StepReporter): Promise<BackupResult> {
  const started = performance.now();
  const steps = new StepRunner(report, ctx.logger, request.name);
  const run = <T>(step: StepName, percent: number, fn: () => Promise<T>) => steps.run(step, percent, fn);
  const { paths, owner, release, account } = await run('validate', 2, async () => {
    checkName(request.name);
    checkId(request.id);
    if (!BACKUP_NAME_PATTERN.test(request.backup)) throw new StepError('validate', 'InvalidSite', `backup name ${JSON.stringify(request.backup)} is not a resource name`);
    const paths = sitePaths(ctx.settings, request.name, request.id);
    const release = await requireProvisioned(paths, request.name, request.id);
    const account = accountName(request.id);
    return { paths, owner: await requireUser(account), release, account };
  });
  const session = await run('store', 5, async () => {
    const opened = await ResticSession.open(ctx.settings.stateDir, request.store, ctx.settings.resticUser ? await requireUser(ctx.settings.resticUser) : undefined);
    steps.secrets.push(...opened.secrets);
    try {
      await opened.ensureRepository(true);
    } catch (error) {
      await opened.close();
      throw error;
    }
    return opened;
  });
  const made: string[] = [];
  try {
    // One time for the three parts: restic shows them as one backup.
    const time = new Date(Math.floor(Date.now() / 1000) * 1000);
    const gitCommit = await releaseCommit(paths, release);
    const args = (part: BackupPart) => backupArgs({ filename: `${request.name}/${PART_FILES[part]}`, tags: backupTags(request.name, request.id, part, request.backup), host: ctx.settings.node ?? hostname(), time });
    const progress = (step: StepName, percent: number) => {
      let last = 0;
      return (counts: { bytes: number; files: number }) => {
        if (Date.now() - last < PROGRESS_EVERY_MS) return;
        last = Date.now();
        report.progress(step, percent, counts).catch((error: unknown) => ctx.logger.warn({ site: request.name, step, err: messageOf(error) }, 'progress report failed'));
      };
    };
    const tasks = new TaskGroup();
    const database = tasks.start(async () => {
      const result = await dumpDatabaseToRestic({ mariadbCommand: ctx.settings.mariadb.command, restic: session, database: account, backupArgs: args('database'), onProgress: progress('database', 20) });
      made.push(result.snapshotId);
      return result;
    });
    const files = tasks.start(async () => {
      const result = await archiveFilesToRestic({ owner, siteRoot: paths.root, release, restic: session, backupArgs: args('files'), onProgress: progress('files', 50) });
      made.push(result.snapshotId);
      return result;
    });
    // The manifest runs beside them: what it records is known before the dump starts (each restic opens the repository's key: ~0.5 s of CPU).
    const manifestPart = tasks.start(async () => {
      const wordpressVersion = (await releaseWordPressVersion(paths, release)) ?? '';
      const text = renderManifest({
        site: request.name,
        id: request.id,
        domains: serverNames((await readIfExists(paths.nginxFile)) ?? ''),
        backup: request.backup,
        release,
        wordpressVersion,
        gitCommit,
        nonInnodbTables: await nonInnodbTables(ctx.settings.mariadb.command, account),
        createdAt: time.toISOString(),
      });
      const stored = await session.storeStdin(args('manifest'), text);
      made.push(stored.snapshotId);
      return { ...stored, wordpressVersion };
    });
    try {
      const dumped = await run('database', 20, () => failsAs('database', 'BackupFailed', database));
      if (dumped.nonInnodbTables.length > 0) await report.log(`database ${account}: tables not on InnoDB, dumped under --lock-tables: ${dumped.nonInnodbTables.join(', ')}`);
      const archived = await run('files', 50, () => failsAs('files', 'BackupFailed', files));
      const manifest = await run('manifest', 85, () => failsAs('manifest', 'BackupFailed', manifestPart));
      const result: BackupResult = {
        snapshots: { database: dumped.snapshotId, files: archived.snapshotId, manifest: manifest.snapshotId },
        snapshotTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        bytesAdded: dumped.bytesAdded + archived.bytesAdded + manifest.bytesAdded,
        bytesTotal: dumped.totalBytes + archived.totalBytes + manifest.totalBytes,
        files: archived.files,
        seconds: (performance.now() - started) / 1000,
        wordpressVersion: manifest.wordpressVersion,
        release,
        gitCommit,
      };
      await report.log(`backup ${request.backup}: database ${dumped.snapshotId}, files ${archived.snapshotId} (${archived.files} entries), manifest ${manifest.snapshotId}; ${result.bytesAdded} bytes added`);
      return result;
    } catch (error) {
      await tasks.settled();
      await session.forget(made).then(
        () => (made.length > 0 ? report.log(`backup ${request.backup} failed: its snapshots ${made.join(', ')} forgotten`) : undefined),
        (forgetError: unknown) => ctx.logger.warn({ site: request.name, err: session.redact(messageOf(forgetError)) }, 'forgetting the snapshots of a failed backup failed'),
      );
      throw error;
    } finally {
      await tasks.settled();
    }
  } finally {
    await session.close();
  }
}
