import { describe, expect, it } from 'vitest';
import { cleanupSql, prepareStagingSql, siteClientArgv, siteClientDefaults, swapSql, unswapSql } from './staging-db.js';

describe('staging database SQL', () => {
  it('drops leftovers, then creates the staging database and grants it to the site user only', () => {
    expect(prepareStagingSql('site_abcd1234')).toBe(
      [
        'DROP DATABASE IF EXISTS `site_abcd1234_rs`;',
        'DROP DATABASE IF EXISTS `site_abcd1234_old`;',
        'CREATE DATABASE `site_abcd1234_rs` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;',
        "GRANT ALL PRIVILEGES ON `site_abcd1234_rs`.* TO 'site_abcd1234'@'localhost';",
        '',
      ].join('\n'),
    );
  });
  it('cleans up with a grant before the revoke, so a missing grant is no error', () => {
    const sql = cleanupSql('site_abcd1234');
    expect(sql.indexOf('GRANT SELECT')).toBeLessThan(sql.indexOf('REVOKE ALL PRIVILEGES ON `site_abcd1234_rs`.*'));
  });
  it('switches every table in ONE rename statement, and undoes it the other way round', () => {
    const swap = swapSql('site_abcd1234', ['wp_options', 'wp_plugin_extra'], ['wp_options', 'wp_posts']);
    expect(swap.split('\n').filter((l) => l.startsWith('RENAME TABLE'))).toEqual([
      'RENAME TABLE `site_abcd1234`.`wp_options` TO `site_abcd1234_old`.`wp_options`, `site_abcd1234`.`wp_plugin_extra` TO `site_abcd1234_old`.`wp_plugin_extra`, `site_abcd1234_rs`.`wp_options` TO `site_abcd1234`.`wp_options`, `site_abcd1234_rs`.`wp_posts` TO `site_abcd1234`.`wp_posts`;',
    ]);
    expect(unswapSql('site_abcd1234', ['wp_options'], ['wp_posts'])).toBe('RENAME TABLE `site_abcd1234`.`wp_posts` TO `site_abcd1234_rs`.`wp_posts`, `site_abcd1234_old`.`wp_options` TO `site_abcd1234`.`wp_options`;\n');
    expect(unswapSql('site_abcd1234', [], [])).toBe('');
  });
  it('refuses a table name it did not expect (no injection through a tenant-made table)', () => {
    expect(() => swapSql('site_abcd1234', ['wp`; DROP DATABASE x; --'], [])).toThrow(/not a database identifier/);
  });
  it("connects the site's own user from a defaults file, into the staging database only", () => {
    expect(siteClientArgv('/usr/bin/mariadb', '/state/restic/run-1/site-client.cnf', 'site_abcd1234')).toEqual([
      '/usr/bin/mariadb',
      '--defaults-file=/state/restic/run-1/site-client.cnf',
      '--one-database',
      '--batch',
      '--default-character-set=utf8mb4',
      'site_abcd1234_rs',
    ]);
    expect(siteClientDefaults('site_abcd1234', 'pw123', '/run/mysqld/mysqld.sock')).toBe('[client]\nuser="site_abcd1234"\npassword="pw123"\nsocket="/run/mysqld/mysqld.sock"\n');
    expect(() => siteClientDefaults('site_abcd1234', 'a"b', '/s')).toThrow(/quote/);
  });
});
