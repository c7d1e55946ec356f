import { redact } from './errors.js';
import { exec, tail } from './exec.js';

const SQL_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' };

/** A MariaDB string literal (NO_BACKSLASH_ESCAPES off, the default). */
export function sqlString(value: string): string {
  return `'${[...value].map((c) => SQL_ESCAPES[c] ?? c).join('')}'`;
}

/** A quoted identifier; only the names the agent makes (letters, digits, _) are accepted. */
export function sqlIdentifier(name: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`${JSON.stringify(name)} is not a database identifier the agent makes`);
  return `\`${name}\``;
}

function account(name: string): string {
  return `${sqlString(sqlIdentifier(name).slice(1, -1))}@'localhost'`;
}

/**
 * The database `name` and the user `name`@localhost restricted to it. The user authenticates by
 * unix socket (the site's Linux user of the same name, e.g. for its own dumps) or by password
 * (WordPress). ALTER USER converges a changed password. The first SELECT tells whether the
 * database existed before, the last one verifies (`1\t1`).
 */
export function provisionSql(name: string, password: string, alsoAccepted: readonly string[] = []): string {
  const auth = authClause([password, ...alsoAccepted]);
  return [
    presenceSql(name),
    `CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
    `CREATE USER IF NOT EXISTS ${account(name)} ${auth};`,
    `ALTER USER ${account(name)} ${auth};`,
    `GRANT ALL PRIVILEGES ON ${sqlIdentifier(name)}.* TO ${account(name)};`,
    presenceSql(name),
    '',
  ].join('\n');
}

/**
 * `IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(<p1>) [OR ... <p2>]`:
 * MariaDB tries the plugins in order, so every listed password authenticates (MariaDB 10.11 has
 * no dual passwords, but a chain of the same plugin is one). Duplicates and empties are dropped.
 */
export function authClause(passwords: readonly string[]): string {
  const unique = [...new Set(passwords.filter((p) => p.length > 0))];
  if (unique.length === 0) throw new Error('no password for the database user');
  return ['IDENTIFIED VIA unix_socket', ...unique.map((p) => `mysql_native_password USING PASSWORD(${sqlString(p)})`)].join(' OR ');
}

/** Sets the accepted passwords of the user `name`@localhost (exactly these, plus its unix socket). */
export function alterPasswordsSql(name: string, passwords: readonly string[]): string {
  return `ALTER USER ${account(name)} ${authClause(passwords)};\n`;
}

/** Drops the database and its user; both already gone is fine. The last SELECT verifies (`0\t0`). */
export function removeSql(name: string): string {
  return [`DROP DATABASE IF EXISTS ${sqlIdentifier(name)};`, `DROP USER IF EXISTS ${account(name)};`, presenceSql(name), ''].join('\n');
}

/** One row: how many databases and how many users named `name` exist (each 0 or 1). */
export function presenceSql(name: string): string {
  const literal = sqlString(sqlIdentifier(name).slice(1, -1));
  return (
    `SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${literal}), ` +
    `(SELECT COUNT(*) FROM mysql.global_priv WHERE User = ${literal} AND Host = 'localhost');`
  );
}

/** Parses presenceSql's row. */
export function parsePresence(stdout: string): { database: boolean; user: boolean } {
  const last = stdout.trim().split('\n').pop() ?? '';
  const [db, user] = last.split('\t');
  if (db === undefined || user === undefined) throw new Error(`unexpected answer from MariaDB: ${JSON.stringify(last)}`);
  return { database: db === '1', user: user === '1' };
}

/** The site user's grants, one per line (the account must exist). */
export async function userGrants(command: readonly string[], name: string): Promise<string> {
  const account = sqlIdentifier(name).slice(1, -1);
  return runSql(command, `SHOW GRANTS FOR ${sqlString(account)}@'localhost';`, []);
}

/** `db`.`table`, `db`.*, *.*: an object as SHOW GRANTS prints it (no doubled backticks: those lines are left alone). */
const GRANT_OBJECT = /^(\*|`[^`]+`)\.(\*|`[^`]+`)$/;
/** Privilege lists as SHOW GRANTS prints them, column privileges included: SELECT, UPDATE (`col`), ... */
const GRANT_PRIVILEGES = /^[A-Z][A-Z ]*( \(`[^`]+`(, `[^`]+`)*\))?(, [A-Z][A-Z ]*( \(`[^`]+`(, `[^`]+`)*\))?)*$/;

/**
 * REVOKE statements (one per line) that bring the site user back to exactly its login (USAGE on
 * *.*) and ALL PRIVILEGES on its own database: grants and grant options added by hand go. Only
 * lines in the exact shape MariaDB prints are turned into SQL; anything else is left alone.
 */
export function revokeExtraGrantsSql(name: string, showGrants: string): string {
  const own = `${sqlIdentifier(name)}.*`;
  const statements: string[] = [];
  for (const line of showGrants.split('\n').map((l) => l.trim())) {
    const match = /^GRANT (.+?) ON (\S+) TO \S+(?: IDENTIFIED .*?)?( WITH GRANT OPTION)?$/.exec(line);
    if (!match) continue;
    const [, privileges = '', object = '', grantOption] = match;
    if (!GRANT_OBJECT.test(object) || !GRANT_PRIVILEGES.test(privileges)) continue;
    const expected = (object === '*.*' && privileges === 'USAGE') || (object === own && privileges === 'ALL PRIVILEGES');
    if (!expected) statements.push(`REVOKE ${privileges} ON ${object} FROM ${account(name)};`);
    if (grantOption) statements.push(`REVOKE GRANT OPTION ON ${object} FROM ${account(name)};`);
  }
  return statements.length > 0 ? `${statements.join('\n')}\n` : '';
}

/** argv of the admin client for a script on stdin: batch mode, no column names. Never any SQL in argv. */
export function clientArgv(command: readonly string[]): string[] {
  return [...command, '--batch', '--skip-column-names'];
}

async function runSql(command: readonly string[], sql: string, secrets: readonly string[]): Promise<string> {
  const argv = clientArgv(command);
  const result = await exec(argv, { input: sql, timeoutMs: 60_000 });
  // MariaDB quotes the statement near a syntax error: the password could be in it.
  if (result.code !== 0) throw new Error(redact(`${argv.join(' ')} exited ${String(result.code)}: ${tail(result.stderr)}`, secrets));
  return result.stdout;
}

/** Check, apply, verify. Returns whether it created the database (a fresh one holds no WordPress yet). */
export async function ensureDatabase(command: readonly string[], name: string, password: string, alsoAccepted: readonly string[] = []): Promise<{ created: boolean }> {
  const rows = (await runSql(command, provisionSql(name, password, alsoAccepted), [password, ...alsoAccepted])).trim().split('\n');
  const before = parsePresence(rows[0] ?? '');
  const after = parsePresence(rows[rows.length - 1] ?? '');
  if (!after.database || !after.user) throw new Error(`database or user ${name} missing after CREATE`);
  // Grants added by hand are drift a converge puts back, like any other.
  const revoke = revokeExtraGrantsSql(name, await userGrants(command, name));
  if (revoke) await runSql(command, revoke, []);
  return { created: !before.database };
}

/** Makes exactly `passwords` (and the unix socket) authenticate `name`@localhost. Existing connections are unaffected. */
export async function setPasswords(command: readonly string[], name: string, passwords: readonly string[]): Promise<void> {
  await runSql(command, alterPasswordsSql(name, passwords), passwords);
}

export async function removeDatabase(command: readonly string[], name: string): Promise<void> {
  const presence = parsePresence(await runSql(command, removeSql(name), []));
  if (presence.database || presence.user) throw new Error(`database or user ${name} still exists after DROP`);
}

export async function databasePresence(command: readonly string[], name: string): Promise<{ database: boolean; user: boolean }> {
  return parsePresence(await runSql(command, presenceSql(name), []));
}
