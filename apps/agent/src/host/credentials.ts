import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from './exec.js';
import type { SitePaths } from './naming.js';

/**
 * DB credential rotation without a failed request. MariaDB 10.11 has no dual passwords, but an
 * account may chain the same plugin: `VIA unix_socket OR mysql_native_password USING PASSWORD(new)
 * OR mysql_native_password USING PASSWORD(old)` accepts both. So:
 *   1. the new password goes to `db-password.pending` (0600) -- a crash from here on is resumable;
 *   2. ALTER USER: old AND new authenticate (open connections are never affected);
 *   3. wp-config.php is re-rendered with the new one (temp + rename, root:site 0640);
 *   4. a grace period: PHP's OPcache re-reads a changed script only every opcache.revalidate_freq
 *      seconds (2 by default), and a request that read the old file has yet to connect;
 *   5. ALTER USER: only the new one; 6. db-password := new (atomic, 0600), pending removed;
 *   7. verify: HTTP 200 through nginx, the old password denied, the new one accepted.
 * At every crash point provision() converges a working site: it lets the stored AND a pending
 * password authenticate and renders the stored one; the next rotation picks up the pending one.
 */

/** How long both passwords stay valid after wp-config.php switched: OPcache's revalidate_freq (2 s) plus slack. */
export const ROTATION_GRACE_MS = 5_000;

/** Root-only: the password a rotation is switching to, until it became the site's db-password. */
export function pendingPasswordFile(paths: SitePaths): string {
  return join(paths.state, 'db-password.pending');
}

/**
 * The password being replaced and the one replacing it. A pending password left by an interrupted
 * rotation is resumed (it may already be in wp-config.php and the database); one equal to the
 * stored password (crash after the store, before removing pending) means that rotation finished.
 */
export function rotationPasswords(stored: string | undefined, pending: string | undefined, generate: () => string): { old: string; next: string; resumed: boolean } {
  const old = stored?.trim();
  if (!old) throw new Error('the site has no stored password: provision it first');
  const left = pending?.trim();
  if (left && left !== old) return { old, next: left, resumed: true };
  for (;;) {
    const next = generate();
    if (next !== old && next.length > 0) return { old, next, resumed: false };
  }
}

/**
 * A client option file logging in as `user` with `password` over the socket. Values are double
 * quoted; a password with a quote, backslash or line break is refused (the agent generates
 * alphanumeric ones) rather than escaped wrongly.
 */
export function loginDefaults(user: string, password: string, socket: string): string {
  for (const value of [user, password, socket]) {
    if (/["\\\r\n]/.test(value)) throw new Error('a login value holds a quote, backslash or line break');
  }
  return `[client]\nuser="${user}"\npassword="${password}"\nsocket="${socket}"\n`;
}

/** argv of a login check: only the option file's path, never the password. */
export function loginArgv(client: string, defaultsFile: string): string[] {
  return [client, `--defaults-file=${defaultsFile}`, '--batch', '--skip-column-names'];
}

export type LoginResult = 'accepted' | 'denied' | 'error';

/**
 * `SELECT CURRENT_USER()`'s outcome: accepted as `user`@localhost, denied, or something else.
 * Denied is 1045, or 1698 (MariaDB answers a login to an account that does not exist as if
 * it had some plugin, sometimes unix_socket's).
 */
export function parseLogin(user: string, code: number | null, stdout: string, stderr: string): LoginResult {
  if (code === 0) return stdout.trim() === `${user}@localhost` ? 'accepted' : 'error';
  return /ERROR (1045|1698)\b/.test(stderr) ? 'denied' : 'error';
}

/**
 * Does `password` log `user` in? The option file lives 0600 in a fresh 0700 dir under `dir`
 * (root-only state), removed afterwards. Run as the agent (root): unix_socket does not match a
 * site account, so the password is what decides.
 */
export async function tryLogin(client: string, dir: string, socket: string, user: string, password: string): Promise<LoginResult> {
  const tmp = await mkdtemp(join(dir, '.login-'));
  try {
    const file = join(tmp, 'client.cnf');
    await writeFile(file, loginDefaults(user, password, socket), { mode: 0o600, flag: 'wx' });
    const result = await exec(loginArgv(client, file), { input: 'SELECT CURRENT_USER();\n', timeoutMs: 30_000 });
    return parseLogin(user, result.code, result.stdout, result.stderr);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
