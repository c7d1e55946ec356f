import { tail } from '../exec.js';
import { asSiteUser } from '../jail.js';
import { BASE_ENV } from '../exec.js';
import type { Ownership } from '../safe-fs.js';
import { pipe } from './pipe.js';
import { parseResticStatus, parseResticSummary, type ResticTarget } from './restic.js';

/**
 * A site's current release and shared/uploads as ONE tar stream into `restic backup --stdin`. tar
 * runs AS THE SITE USER (setpriv): whatever the tenant planted (a symlink to /etc or to another
 * site, a FIFO, a file it made unreadable), tar can read only what the tenant can; symlinks are
 * stored as symlinks (no --dereference), FIFOs and devices as entries, never read. Like the
 * dump, a tar that fails (any non-zero exit) kills restic before the end of its input: no snapshot.
 */
export function tarCreateArgv(owner: Ownership, siteRoot: string, release: string): string[] {
  return asSiteUser(owner, ['/bin/tar', '--sort=name', '--one-file-system', '-cvf', '-', '-C', siteRoot, '--', `releases/${release}`, 'shared/uploads']);
}

/** tar's warning for a file modified during the read (exit 1): not a failure. */
function onlyChanged(line: string): boolean {
  return line.endsWith(': file changed as we read it');
}

export interface FilesArchiveResult {
  readonly snapshotId: string;
  readonly bytesAdded: number;
  readonly totalBytes: number;
  /** Entries in the archive (tar's verbose listing). */
  readonly files: number;
}

export async function archiveFilesToRestic(options: {
  readonly owner: Ownership;
  readonly siteRoot: string;
  readonly release: string;
  readonly restic: ResticTarget;
  readonly backupArgs: readonly string[];
  readonly onProgress?: (counts: { bytes: number; files: number }) => void;
  readonly timeoutMs?: number;
}): Promise<FilesArchiveResult> {
  let files = 0;
  const errors: string[] = [];
  const outcome = await pipe({
    producer: { argv: tarCreateArgv(options.owner, options.siteRoot, options.release), env: BASE_ENV, cwd: '/' },
    consumer: { argv: [...options.restic.prefix, ...options.backupArgs], env: options.restic.env },
    timeoutMs: options.timeoutMs ?? 3_600_000,
    // GNU tar exits 1 when a file changed while it was read (a site writing uploads): the archive
    // is complete, that file's copy may be torn. Any other complaint fails the backup.
    producerOk: ({ code, signal }) => !signal && (code === 0 || (code === 1 && errors.length > 0 && errors.every(onlyChanged))),
    // tar -v lists each entry on stderr (the archive is stdout); its complaints start with "tar: ".
    onProducerErrLine: (line) => {
      if (line.startsWith('/bin/tar: ') || line.startsWith('tar: ')) errors.push(line);
      else if (line !== '') files++;
    },
    onConsumerLine: (line) => {
      const status = parseResticStatus(line);
      if (status) options.onProgress?.({ bytes: status.bytes, files });
    },
  });
  const summary = parseResticSummary(outcome.consumerOut);
  const { failure } = outcome;
  if (failure?.side === 'producer' || failure?.side === 'timeout') {
    throw new Error(`archive of releases/${options.release} and shared/uploads (read as the site user) failed: ${failure.why}: ${errors.slice(-8).join('\n')}; restic was stopped before the end of its input, so it saved no snapshot`);
  }
  if (failure || !summary) throw new Error(`restic backup of the site's files: ${failure ? failure.why : 'no summary'}: ${tail(outcome.consumerErr)}`);
  return { ...summary, files };
}
