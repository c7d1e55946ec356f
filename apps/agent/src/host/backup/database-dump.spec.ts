import { describe, expect, it } from 'vitest';
import { dumpArgv, endsWithTrailer, nonInnodbTablesSql } from './database-dump.js';

const ADMIN = ['/usr/bin/mariadb', '--defaults-file=/etc/pressluft/mariadb-admin.cnf'];

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

describe('nonInnodbTablesSql', () => {
  it('asks for the base tables of that database whose engine is not InnoDB', () => {
    expect(nonInnodbTablesSql('site_abcd1234')).toBe(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'site_abcd1234' AND TABLE_TYPE = 'BASE TABLE' AND (ENGINE IS NULL OR ENGINE <> 'InnoDB') ORDER BY TABLE_NAME;\n",
    );
  });
});

describe('endsWithTrailer', () => {
  const good = '/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\n-- Dump completed on 2026-12-07  1:50:00\n';
  it('finds the trailer on the last line only', () => {
    expect(endsWithTrailer(good)).toBe(true);
    expect(endsWithTrailer(Buffer.from(good))).toBe(true);
    expect(endsWithTrailer('-- Dump completed on 2026-12-07\nINSERT INTO t VALUES (1);\n')).toBe(false);
    expect(endsWithTrailer('')).toBe(false);
  });
});
