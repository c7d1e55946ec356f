import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { describeExit } from '@pressluft/domain';
import { CappedBuffer } from '../capped.js';
import { BASE_ENV, exec, tail } from '../exec.js';
import { clientArgv, sqlIdentifier, sqlString } from '../mariadb.js';

/**
 * A site's database streamed from `mariadb-dump` into `restic backup --stdin` (restic 0.14 has no
 * --stdin-from-command), with no dump file on disk. The agent sits in the pipe: it keeps the last
 * bytes of the stream and hands restic the end of its input (EOF) only once the dump exited 0, by
 * no signal, with the `-- Dump completed` trailer. A failed dump never reaches EOF: restic is
 * killed (SIGKILL) while still reading, and restic saves a snapshot only after its input ended,
 * so none is made from a failed dump and there is nothing to forget. (The one gap: if the agent
 * itself dies mid-dump, the pipe closes and restic sees an EOF; that snapshot's file then lacks
 * the trailer, which a restore must check.)
 *
 * Tables that are not InnoDB (MyISAM, Aria, ...) are not covered by --single-transaction's
 * snapshot. When the database has any, the dump runs with --lock-tables instead (read locks on
 * all of this database's tables for the dump's duration: the site's writes wait, other
 * databases are untouched; never --lock-all-tables, which would stop every site on the server),
 * and the tables are reported in the result.
 */
export interface DatabaseDumpOptions {
  /** The admin client's argv prefix (settings.mariadb.command): its options are reused for the dump. */
  readonly mariadbCommand: readonly string[];
  readonly dumpBinary?: string;
  readonly resticBinary?: string;
  readonly repository: string;
  /** Root-only (no group or other bits); passed as RESTIC_PASSWORD_FILE in the environment. */
  readonly passwordFile: string;
  /** restic's cache (RESTIC_CACHE_DIR): the agent's environment has no HOME to find one. */
  readonly cacheDir: string;
  /** The site's database (`site_<id>`). */
  readonly database: string;
  /** The site's name: the stdin file name `<site>/database.sql` and the tag `site=<site>`. */
  readonly site: string;
  /** The node's name: restic's --host. */
  readonly node: string;
  /** Both processes are killed after this long (default 1 h). */
  readonly timeoutMs?: number;
}

export interface DatabaseDumpResult {
  readonly snapshotId: string;
  readonly bytesAdded: number;
  readonly totalBytes: number;
  /** Base tables whose engine is not InnoDB; non-empty means the dump ran with --lock-tables. */
  readonly nonInnodbTables: readonly string[];
  readonly seconds: number;
}

export const DUMP_TRAILER = '-- Dump completed';
/** Bytes of the stream's end kept to find the trailer (`-- Dump completed on 2026-12-07  1:50:00`). */
const TRAILER_WINDOW = 256;
/** Kept of restic's output and of each stderr (the summary is restic's last line). */
const CAPTURE_BYTES = 64 * 1024;

/** mariadb-dump's argv: the admin client's options (its --defaults-file) with the dump binary. */
export function dumpArgv(mariadbCommand: readonly string[], dumpBinary: string, database: string, lockTables: boolean): string[] {
  const consistency = lockTables ? '--lock-tables' : '--single-transaction';
  const options = ['--quick', '--routines', '--triggers', '--events', '--hex-blob', '--default-character-set=utf8mb4'];
  return [dumpBinary, ...mariadbCommand.slice(1), consistency, ...options, sqlIdentifier(database).slice(1, -1)];
}

/** restic's argv: stable tags per site and kind (retention groups by them), never a per-run tag. */
export function resticBackupArgv(resticBinary: string, site: string, node: string): string[] {
  return [resticBinary, 'backup', '--stdin', '--stdin-filename', `${site}/database.sql`, '--tag', 'pressluft', '--tag', `site=${site}`, '--tag', 'kind=database', '--host', node, '--json'];
}

/** The child's environment: the repository and the password file, never on argv. */
export function resticEnv(repository: string, passwordFile: string, cacheDir: string): NodeJS.ProcessEnv {
  return { ...BASE_ENV, RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: cacheDir };
}

/** information_schema query (for the admin client, on stdin): the base tables not on InnoDB, one per line. */
export function nonInnodbTablesSql(database: string): string {
  const literal = sqlString(sqlIdentifier(database).slice(1, -1));
  return `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${literal} AND TABLE_TYPE = 'BASE TABLE' AND (ENGINE IS NULL OR ENGINE <> 'InnoDB') ORDER BY TABLE_NAME;\n`;
}

/**
 * The summary line of `restic backup --json` (the last JSON object with message_type "summary").
 * restic 0.14 gives the short snapshot id (8 hex digits), later versions the full one.
 */
export function parseResticSummary(stdout: string): { snapshotId: string; bytesAdded: number; totalBytes: number } | undefined {
  for (const line of stdout.split('\n').reverse()) {
    if (!line.trim().startsWith('{')) continue;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof message !== 'object' || message === null) continue;
    const m = message as Record<string, unknown>;
    if (m['message_type'] !== 'summary') continue;
    const id = m['snapshot_id'];
    const added = m['data_added'];
    const total = m['total_bytes_processed'];
    if (typeof id !== 'string' || !/^[0-9a-f]{8,64}$/.test(id) || typeof added !== 'number' || typeof total !== 'number') return undefined;
    return { snapshotId: id, bytesAdded: added, totalBytes: total };
  }
  return undefined;
}

/** Whether the stream's last bytes end with mariadb-dump's trailer line. */
export function endsWithTrailer(last: Buffer | string): boolean {
  const lines = last.toString('utf8').trimEnd().split('\n');
  return (lines[lines.length - 1] ?? '').startsWith(DUMP_TRAILER);
}

/** Why the dump is not good, or undefined if it is. */
export function dumpFailure(code: number | null, signal: NodeJS.Signals | null, last: Buffer | string, timedOut: boolean): string | undefined {
  if (timedOut) return 'the dump timed out';
  if (signal || code !== 0) return `mariadb-dump ${describeExit(code, signal)}`;
  if (!endsWithTrailer(last)) return `the dump stream does not end with "${DUMP_TRAILER}"`;
  return undefined;
}

function assertRootOnly(path: string): void {
  const stat = statSync(path);
  if ((stat.mode & 0o077) !== 0 || stat.uid !== process.getuid?.()) throw new Error(`restic password file ${path} must be owned by the agent's user and not readable by group or others`);
}

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function closed(child: ChildProcess): Promise<Ended> {
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
}

export async function nonInnodbTables(mariadbCommand: readonly string[], database: string): Promise<string[]> {
  const argv = clientArgv(mariadbCommand);
  const result = await exec(argv, { input: nonInnodbTablesSql(database), timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`${argv.join(' ')} ${describeExit(result.code, result.signal)}: ${tail(result.stderr)}`);
  return result.stdout.split('\n').filter((line) => line.length > 0);
}

export async function dumpDatabaseToRestic(options: DatabaseDumpOptions): Promise<DatabaseDumpResult> {
  const started = performance.now();
  assertRootOnly(options.passwordFile);
  const tables = await nonInnodbTables(options.mariadbCommand, options.database);
  const resticBinary = options.resticBinary ?? '/usr/bin/restic';
  const env = resticEnv(options.repository, options.passwordFile, options.cacheDir);
  const [dumpCommand, ...dumpArgs] = dumpArgv(options.mariadbCommand, options.dumpBinary ?? '/usr/bin/mariadb-dump', options.database, tables.length > 0);
  const [resticCommand, ...resticArgs] = resticBackupArgv(resticBinary, options.site, options.node);
  if (!dumpCommand || !resticCommand) throw new Error('empty argv');

  const restic = spawn(resticCommand, resticArgs, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const dump = spawn(dumpCommand, dumpArgs, { env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const resticOut = new CappedBuffer(CAPTURE_BYTES, 'tail');
  const resticErr = new CappedBuffer(CAPTURE_BYTES, 'tail');
  const dumpErr = new CappedBuffer(CAPTURE_BYTES, 'tail');
  const last = new CappedBuffer(TRAILER_WINDOW, 'tail');
  restic.stdout.on('data', (chunk: Buffer) => resticOut.push(chunk));
  restic.stderr.on('data', (chunk: Buffer) => resticErr.push(chunk));
  dump.stderr.on('data', (chunk: Buffer) => dumpErr.push(chunk));
  dump.stdout.on('data', (chunk: Buffer) => last.push(chunk));
  // The agent decides when restic sees the end of its input: only after a good dump.
  dump.stdout.pipe(restic.stdin, { end: false });
  restic.stdin.on('error', () => undefined);

  // Killed, the dump's output is read to its end (no longer into restic), so its 'close' comes.
  const stopDump = () => {
    dump.kill('SIGKILL');
    dump.stdout.unpipe(restic.stdin);
    dump.stdout.resume();
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stopDump();
    restic.kill('SIGKILL');
  }, options.timeoutMs ?? 3_600_000);
  const spawnError = new Promise<never>((_, reject) => {
    dump.on('error', reject);
    restic.on('error', reject);
  });
  let dumpEnded = false;
  let resticFailedFirst = false;
  const resticEnded = closed(restic);
  // If restic ends before its input did, it failed: the dump has nowhere to write and is killed.
  void resticEnded.then(() => {
    resticFailedFirst = !dumpEnded;
    stopDump();
  });
  try {
    const dumped = await Promise.race([closed(dump), spawnError]);
    dumpEnded = true;
    const failure = resticFailedFirst ? undefined : dumpFailure(dumped.code, dumped.signal, last.bytes(), timedOut);
    if (failure) restic.kill('SIGKILL');
    else restic.stdin.end();
    const stored = await Promise.race([resticEnded, spawnError]);
    const summary = parseResticSummary(resticOut.text());
    if (failure) {
      throw new Error(`database dump of ${options.database} failed: ${failure}: ${tail(dumpErr.text())}; restic was stopped before the end of its input, so it saved no snapshot`);
    }
    if (timedOut || resticFailedFirst || stored.code !== 0 || stored.signal || !summary) {
      const why = timedOut ? 'timed out' : describeExit(stored.code, stored.signal);
      const dumpStopped = resticFailedFirst ? '; mariadb-dump was stopped' : '';
      throw new Error(`restic backup of ${options.database} ${why}${summary ? '' : ' without a summary'}: ${tail(resticErr.text())}${dumpStopped}`);
    }
    return { ...summary, nonInnodbTables: tables, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
    dump.kill('SIGKILL');
    restic.kill('SIGKILL');
  }
}
