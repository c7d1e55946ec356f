import { describeExit } from '@pressluft/domain';
import { exec, tail } from '../exec.js';
import { clientArgv, sqlIdentifier, sqlString } from '../mariadb.js';

/**
 * A restore's databases beside the site's `site_<id>`: `site_<id>_rs` (staged: filled from the
 * backup, health-checked) and `site_<id>_old` (the live tables after the switch, until clean-up).
 * The switch is ONE `RENAME TABLE` statement (atomic in MariaDB: all tables move or none).
 */
export function stagingDatabase(account: string): string {
  return `${account}_rs`;
}

export function oldDatabase(account: string): string {
  return `${account}_old`;
}

function account(name: string): string {
  return `${sqlString(sqlIdentifier(name).slice(1, -1))}@'localhost'`;
}

/** A fresh, empty staging database the site's user may fill (leftovers of a crashed restore dropped first). Pure. */
export function prepareStagingSql(site: string): string {
  const staging = sqlIdentifier(stagingDatabase(site));
  return [
    `DROP DATABASE IF EXISTS ${staging};`,
    `DROP DATABASE IF EXISTS ${sqlIdentifier(oldDatabase(site))};`,
    `CREATE DATABASE ${staging} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
    `GRANT ALL PRIVILEGES ON ${staging}.* TO ${account(site)};`,
    '',
  ].join('\n');
}

/** Drops the staging and old databases and the site user's grant on the staging one (a grant then a revoke: no error when there was none). Pure. */
export function cleanupSql(site: string): string {
  const staging = sqlIdentifier(stagingDatabase(site));
  return [
    `DROP DATABASE IF EXISTS ${staging};`,
    `DROP DATABASE IF EXISTS ${sqlIdentifier(oldDatabase(site))};`,
    `GRANT SELECT ON ${staging}.* TO ${account(site)};`,
    `REVOKE ALL PRIVILEGES ON ${staging}.* FROM ${account(site)};`,
    '',
  ].join('\n');
}

/** The tables (and views) of a database, one per line. Pure. */
export function tablesSql(database: string): string {
  return `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${sqlString(sqlIdentifier(database).slice(1, -1))} ORDER BY TABLE_NAME;\n`;
}

/** One RENAME TABLE: every `from` table of `a` to `b`, every table of `c` to `a`. Pure. */
function renameSql(moves: readonly { readonly from: string; readonly to: string; readonly tables: readonly string[] }[]): string {
  const pairs = moves.flatMap(({ from, to, tables }) => tables.map((t) => `${sqlIdentifier(from)}.${sqlIdentifier(t)} TO ${sqlIdentifier(to)}.${sqlIdentifier(t)}`));
  return pairs.length === 0 ? '' : `RENAME TABLE ${pairs.join(', ')};\n`;
}

/** The switch: live tables to site_<id>_old, staged ones into site_<id>, in one statement. Pure. */
export function swapSql(site: string, live: readonly string[], staged: readonly string[]): string {
  const old = sqlIdentifier(oldDatabase(site));
  const rename = renameSql([
    { from: site, to: oldDatabase(site), tables: live },
    { from: stagingDatabase(site), to: site, tables: staged },
  ]);
  return `DROP DATABASE IF EXISTS ${old};\nCREATE DATABASE ${old};\n${rename}`;
}

/** The switch undone (a later step failed): the restored tables back to staging, the old ones back live. Pure. */
export function unswapSql(site: string, live: readonly string[], staged: readonly string[]): string {
  return renameSql([
    { from: site, to: stagingDatabase(site), tables: staged },
    { from: oldDatabase(site), to: site, tables: live },
  ]);
}

export async function adminSql(command: readonly string[], sql: string): Promise<string> {
  if (sql === '') return '';
  const argv = clientArgv(command);
  const result = await exec(argv, { input: sql, timeoutMs: 300_000 });
  if (result.code !== 0 || result.signal) throw new Error(`${argv[0] ?? 'mariadb'} ${describeExit(result.code, result.signal)}: ${tail(result.stderr)}`);
  return result.stdout;
}

export async function tablesOf(command: readonly string[], database: string): Promise<string[]> {
  return (await adminSql(command, tablesSql(database))).split('\n').filter((line) => line !== '');
}

/** The site's own client (its user and password from a root-only defaults file) into the staging database only. */
export function siteClientArgv(mariadbBinary: string, defaultsFile: string, site: string): string[] {
  return [mariadbBinary, `--defaults-file=${defaultsFile}`, '--one-database', '--batch', '--default-character-set=utf8mb4', stagingDatabase(sqlIdentifier(site).slice(1, -1))];
}

/** The defaults file's text for the site's user (the password never on argv). Pure. */
export function siteClientDefaults(site: string, password: string, socket: string): string {
  if (/["\\\n]/.test(password) || /["\\\n]/.test(socket)) throw new Error('the database password or socket holds a quote, backslash or newline');
  return `[client]\nuser="${site}"\npassword="${password}"\nsocket="${socket}"\n`;
}
