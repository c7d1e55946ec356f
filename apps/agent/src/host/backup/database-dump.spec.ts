import { describe, expect, it } from 'vitest';
import { dumpArgv, dumpFailure, endsWithTrailer, nonInnodbTablesSql, parseResticSummary, resticBackupArgv, resticEnv } from './database-dump.js';

const ADMIN = ['/usr/bin/mariadb', '--defaults-file=/etc/pressluft/mariadb-admin.cnf'];
const ID = 'a'.repeat(64);

describe('dumpArgv', () => {
  it('reuses the admin defaults file with the dump binary and a single transaction', () => {
    expect(dumpArgv(ADMIN, '/usr/bin/mariadb-dump', 'site_abcd1234', false)).toEqual([
      '/usr/bin/mariadb-dump',
      '--defaults-file=/etc/pressluft/mariadb-admin.cnf',
      '--single-transaction',
      '--quick',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--default-character-set=utf8mb4',
      'site_abcd1234',
    ]);
  });
  it('locks the database tables instead when some are not InnoDB', () => {
    const argv = dumpArgv(ADMIN, '/usr/bin/mariadb-dump', 'site_abcd1234', true);
    expect(argv).toContain('--lock-tables');
    expect(argv).not.toContain('--single-transaction');
    expect(argv).not.toContain('--lock-all-tables');
  });
  it('refuses a database name that is not an identifier the agent makes', () => {
    expect(() => dumpArgv(ADMIN, '/usr/bin/mariadb-dump', '--all-databases', false)).toThrow(/not a database identifier/);
  });
});

describe('restic argv and environment', () => {
  it('tags per site and kind, no per-run tag; the repository and password only in the environment', () => {
    const argv = resticBackupArgv('/usr/bin/restic', 'blog', 'node-1');
    expect(argv).toEqual(['/usr/bin/restic', 'backup', '--stdin', '--stdin-filename', 'blog/database.sql', '--tag', 'pressluft', '--tag', 'site=blog', '--tag', 'kind=database', '--host', 'node-1', '--json']);
    const env = resticEnv('/srv/repo', '/root/restic-password', '/var/cache/restic');
    expect(env).toMatchObject({ RESTIC_REPOSITORY: '/srv/repo', RESTIC_PASSWORD_FILE: '/root/restic-password', RESTIC_CACHE_DIR: '/var/cache/restic' });
    expect(env['RESTIC_PASSWORD']).toBeUndefined();
    expect(argv.join(' ')).not.toMatch(/repo|password/);
  });
});

describe('nonInnodbTablesSql', () => {
  it('asks for the base tables of that database whose engine is not InnoDB', () => {
    expect(nonInnodbTablesSql('site_abcd1234')).toBe(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'site_abcd1234' AND TABLE_TYPE = 'BASE TABLE' AND (ENGINE IS NULL OR ENGINE <> 'InnoDB') ORDER BY TABLE_NAME;\n",
    );
  });
});

describe('parseResticSummary', () => {
  const summary = JSON.stringify({ message_type: 'summary', files_new: 1, data_added: 1234, total_bytes_processed: 5678, snapshot_id: ID });
  it('accepts restic 0.14 short ids (8 hex digits)', () => {
    const short = JSON.stringify({ message_type: 'summary', data_added: 575, total_bytes_processed: 3, snapshot_id: '809aa70f' });
    expect(parseResticSummary(`{"message_type":"status","percent_done":0,"total_files":1}\n${short}`)).toEqual({ snapshotId: '809aa70f', bytesAdded: 575, totalBytes: 3 });
  });
  it('reads the summary after status lines', () => {
    const status = JSON.stringify({ message_type: 'status', percent_done: 0.5 });
    expect(parseResticSummary(`${status}\n${status}\n${summary}\n`)).toEqual({ snapshotId: ID, bytesAdded: 1234, totalBytes: 5678 });
  });
  it('is undefined without a summary, with a malformed one, or with non-JSON text', () => {
    expect(parseResticSummary('')).toBeUndefined();
    expect(parseResticSummary('{"message_type":"status"}\nFatal: unable to open repository\n')).toBeUndefined();
    expect(parseResticSummary(JSON.stringify({ message_type: 'summary', snapshot_id: 'short', data_added: 1, total_bytes_processed: 1 }))).toBeUndefined();
    expect(parseResticSummary('{not json')).toBeUndefined();
  });
});

describe('trailer and dump verdict', () => {
  const good = '/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\n-- Dump completed on 2026-12-07  1:50:00\n';
  it('finds the trailer on the last line only', () => {
    expect(endsWithTrailer(good)).toBe(true);
    expect(endsWithTrailer(Buffer.from(good))).toBe(true);
    expect(endsWithTrailer('-- Dump completed on 2026-12-07\nINSERT INTO t VALUES (1);\n')).toBe(false);
    expect(endsWithTrailer('')).toBe(false);
  });
  it('names the cause of a bad dump', () => {
    expect(dumpFailure(0, null, good, false)).toBeUndefined();
    expect(dumpFailure(2, null, '', false)).toBe('mariadb-dump exited with code 2');
    expect(dumpFailure(null, 'SIGKILL', good, false)).toBe('mariadb-dump killed by SIGKILL');
    expect(dumpFailure(0, null, 'INSERT INTO t VALUES (1', false)).toBe('the dump stream does not end with "-- Dump completed"');
    expect(dumpFailure(0, null, good, true)).toBe('the dump timed out');
  });
});
