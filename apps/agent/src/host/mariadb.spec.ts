import { describe, expect, it } from 'vitest';
import { alterPasswordsSql, authClause, clientArgv, parsePresence, presenceSql, provisionSql, removeSql, revokeExtraGrantsSql, sqlIdentifier, sqlString } from './mariadb.js';

describe('mariadb', () => {
  it('quotes strings and identifiers', () => {
    expect(sqlString("a'b\\c\nd\0")).toBe("'a\\'b\\\\c\\nd\\0'");
    expect(sqlIdentifier('site_ax9z0k1m')).toBe('`site_ax9z0k1m`');
    expect(() => sqlIdentifier('a`; DROP DATABASE x; --')).toThrow();
    expect(() => sqlIdentifier('')).toThrow();
  });

  it('creates a database and a user restricted to it, by socket or password', () => {
    const sql = provisionSql('site_ax9z0k1m', 'pw');
    expect(sql).toContain('CREATE DATABASE IF NOT EXISTS `site_ax9z0k1m` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;');
    expect(sql).toContain("CREATE USER IF NOT EXISTS 'site_ax9z0k1m'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('pw');");
    expect(sql).toContain("ALTER USER 'site_ax9z0k1m'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('pw');");
    expect(sql).toContain("GRANT ALL PRIVILEGES ON `site_ax9z0k1m`.* TO 'site_ax9z0k1m'@'localhost';");
    expect(sql).not.toMatch(/GRANT OPTION|\*\.\*/);
    expect(sql.trim().split('\n')[0]).toBe(presenceSql('site_ax9z0k1m'));
    expect(sql.trim().split('\n').pop()).toBe(presenceSql('site_ax9z0k1m'));
  });

  it('escapes a password that needs it', () => {
    expect(provisionSql('site_a', "x');DROP USER root;--")).toContain("PASSWORD('x\\');DROP USER root;--')");
  });

  it('drops both, tolerating their absence', () => {
    expect(removeSql('site_a')).toContain('DROP DATABASE IF EXISTS `site_a`;\nDROP USER IF EXISTS \'site_a\'@\'localhost\';');
  });

  it('parses the presence row', () => {
    expect(parsePresence('1\t1\n')).toEqual({ database: true, user: true });
    expect(parsePresence('0\t1')).toEqual({ database: false, user: true });
    expect(() => parsePresence('')).toThrow();
  });

  it('keeps SQL out of argv', () => {
    expect(clientArgv(['/usr/bin/mariadb', '--defaults-file=/x'])).toEqual(['/usr/bin/mariadb', '--defaults-file=/x', '--batch', '--skip-column-names']);
  });

  it('accepts several passwords by chaining the plugin, for a rotation', () => {
    expect(authClause(['new', 'old', 'new', ''])).toBe(
      "IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('new') OR mysql_native_password USING PASSWORD('old')",
    );
    expect(() => authClause([''])).toThrow();
    expect(alterPasswordsSql('site_ax9z0k1m', ["n'w"])).toBe("ALTER USER 'site_ax9z0k1m'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('n\\'w');\n");
    expect(provisionSql('site_ax9z0k1m', 'pw', ['pending'])).toContain(
      "ALTER USER 'site_ax9z0k1m'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('pw') OR mysql_native_password USING PASSWORD('pending');",
    );
  });
});

describe('revokeExtraGrantsSql', () => {
  const to = 'TO `site_ab12cd34`@`localhost`';
  const usage = `GRANT USAGE ON *.* ${to} IDENTIFIED VIA unix_socket OR mysql_native_password USING '*HASH'`;
  const own = `GRANT ALL PRIVILEGES ON \`site_ab12cd34\`.* ${to}`;
  const from = "FROM 'site_ab12cd34'@'localhost';";
  const cases: Array<[string, string[], string[]]> = [
    ['the login and ALL on its own database: nothing to revoke', [usage, own], []],
    ["a grant on another site's database", [usage, own, `GRANT SELECT, INSERT ON \`site_zz99zz99\`.* ${to}`], [`REVOKE SELECT, INSERT ON \`site_zz99zz99\`.* ${from}`]],
    ['a global privilege', [usage, own, `GRANT PROCESS, RELOAD ON *.* ${to}`], [`REVOKE PROCESS, RELOAD ON *.* ${from}`]],
    ['a column privilege', [usage, own, `GRANT SELECT (\`user_pass\`), UPDATE ON \`site_zz99zz99\`.\`wp_users\` ${to}`], [`REVOKE SELECT (\`user_pass\`), UPDATE ON \`site_zz99zz99\`.\`wp_users\` ${from}`]],
    ['the grant option on its own database (the privileges stay)', [usage, `${own} WITH GRANT OPTION`], [`REVOKE GRANT OPTION ON \`site_ab12cd34\`.* ${from}`]],
    ['a line in an unknown shape is left alone', [usage, own, `GRANT SELECT ON \`we\`\`ird\`.* ${to}`, 'GRANT `some_role` TO `site_ab12cd34`@`localhost`'], []],
  ];
  it.each(cases)('%s', (_name, grants, statements) => {
    expect(revokeExtraGrantsSql('site_ab12cd34', grants.join('\n'))).toBe(statements.length > 0 ? `${statements.join('\n')}\n` : '');
  });
  it('never carries the authentication part', () => {
    expect(revokeExtraGrantsSql('site_ab12cd34', [usage.replace('USAGE', 'USAGE, PROCESS'), own].join('\n'))).not.toContain('HASH');
  });
});
