import { describeExit } from '@pressluft/domain';
import { BASE_ENV, exec, tail } from '../exec.js';
import { clientArgv, sqlIdentifier, sqlString } from '../mariadb.js';
import { pipe } from './pipe.js';
import { parseResticStatus, parseResticSummary, type ResticTarget } from './restic.js';

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
  readonly restic: ResticTarget;
  /** The site's database (`site_<id>`). */
  readonly database: string;
  /** `restic backup`'s arguments (backupArgs: the stdin file name, the tags, the host, the time). */
  readonly backupArgs: readonly string[];
  /** Called with each restic status line's counts. */
  readonly onProgress?: (counts: { bytes: number; files: number }) => void;
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

/** mariadb-dump's argv: the admin client's options (its --defaults-file) with the dump binary. */
export function dumpArgv(mariadbCommand: readonly string[], dumpBinary: string, database: string, lockTables: boolean): string[] {
  const consistency = lockTables ? '--lock-tables' : '--single-transaction';
  const options = ['--quick', '--routines', '--triggers', '--events', '--hex-blob', '--default-character-set=utf8mb4'];
  return [dumpBinary, ...mariadbCommand.slice(1), consistency, ...options, sqlIdentifier(database).slice(1, -1)];
}

/** information_schema query (for the admin client, on stdin): the base tables not on InnoDB, one per line. */
export function nonInnodbTablesSql(database: string): string {
  const literal = sqlString(sqlIdentifier(database).slice(1, -1));
  return `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${literal} AND TABLE_TYPE = 'BASE TABLE' AND (ENGINE IS NULL OR ENGINE <> 'InnoDB') ORDER BY TABLE_NAME;\n`;
}

/** Whether the stream's last bytes end with mariadb-dump's trailer line. */
export function endsWithTrailer(last: Buffer | string): boolean {
  const lines = last.toString('utf8').trimEnd().split('\n');
  return (lines[lines.length - 1] ?? '').startsWith(DUMP_TRAILER);
}

export async function nonInnodbTables(mariadbCommand: readonly string[], database: string): Promise<string[]> {
  const argv = clientArgv(mariadbCommand);
  const result = await exec(argv, { input: nonInnodbTablesSql(database), timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`${argv.join(' ')} ${describeExit(result.code, result.signal)}: ${tail(result.stderr)}`);
  return result.stdout.split('\n').filter((line) => line.length > 0);
}

export async function dumpDatabaseToRestic(options: DatabaseDumpOptions): Promise<DatabaseDumpResult> {
  const started = performance.now();
  const tables = await nonInnodbTables(options.mariadbCommand, options.database);
  const outcome = await pipe({
    producer: { argv: dumpArgv(options.mariadbCommand, options.dumpBinary ?? '/usr/bin/mariadb-dump', options.database, tables.length > 0), env: BASE_ENV },
    consumer: { argv: [...options.restic.prefix, ...options.backupArgs], env: options.restic.env },
    timeoutMs: options.timeoutMs ?? 3_600_000,
    judge: (last) => (endsWithTrailer(last) ? undefined : `the dump stream does not end with "${DUMP_TRAILER}"`),
    onConsumerLine: (line) => {
      const status = parseResticStatus(line);
      if (status) options.onProgress?.(status);
    },
  });
  const summary = parseResticSummary(outcome.consumerOut);
  const { failure } = outcome;
  if (failure?.side === 'producer' || failure?.side === 'timeout') {
    const why = failure.side === 'timeout' ? 'the dump timed out' : failure.why;
    throw new Error(`database dump of ${options.database} failed: ${why}: ${tail(outcome.producerErr)}; restic was stopped before the end of its input, so it saved no snapshot`);
  }
  if (failure || !summary) {
    const stopped = outcome.producerStopped ? '; mariadb-dump was stopped' : '';
    throw new Error(`restic backup of ${options.database} ${describeExit(outcome.consumer.code, outcome.consumer.signal)}${summary ? '' : ' without a summary'}: ${tail(outcome.consumerErr)}${stopped}`);
  }
  return { ...summary, nonInnodbTables: tables, seconds: (performance.now() - started) / 1000 };
}
