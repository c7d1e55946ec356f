import { readdir, readFile } from 'node:fs/promises';
import { exec, tail, type ExecResult } from './exec.js';
import type { Ownership } from './safe-fs.js';

export const NOLOGIN_SHELL = '/usr/sbin/nologin';

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** The /etc/passwd line of `name`, parsed; undefined when there is none. */
export function parsePasswd(text: string, name: string): PasswdEntry | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 7) return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '', shell: f[6] ?? '' };
  }
  return undefined;
}

/** The gid of group `name` in /etc/group; undefined when there is none. */
export function parseGroup(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return Number(f[2]);
  }
  return undefined;
}

/**
 * A site's account: a NORMAL user (UID from UID_MIN..UID_MAX, 1000-60000 on Debian), not
 * --system: the system range (about 900 ids) is shared with every Debian package and would cap
 * a node's sites. --user-group makes its own group; no home is created (the agent makes the
 * site tree with exact owners and modes, and the home is only a name); no password is set, so
 * the shadow entry stays locked ('!'), and the shell is nologin.
 */
export function useraddArgv(account: string, home: string, comment: string): string[] {
  return ['/usr/sbin/useradd', '--user-group', '--no-create-home', '--home-dir', home, '--shell', NOLOGIN_SHELL, '--comment', comment, account];
}

export function userdelArgv(account: string): string[] {
  return ['/usr/sbin/userdel', account];
}

export function groupdelArgv(account: string): string[] {
  return ['/usr/sbin/groupdel', account];
}

export function usermodShellArgv(account: string): string[] {
  return ['/usr/sbin/usermod', '--shell', NOLOGIN_SHELL, account];
}

/** The name of the group with this gid in /etc/group; undefined when there is none. */
export function parseGroupName(text: string, gid: number): string | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[2] === String(gid)) return f[0];
  }
  return undefined;
}

export async function groupNameOf(gid: number): Promise<string> {
  const name = parseGroupName(await readFile('/etc/group', 'utf8'), gid);
  if (name === undefined) throw new Error(`no group with gid ${gid}`);
  return name;
}

export async function lookupUser(name: string): Promise<PasswdEntry | undefined> {
  return parsePasswd(await readFile('/etc/passwd', 'utf8'), name);
}

export async function lookupGroup(name: string): Promise<number | undefined> {
  return parseGroup(await readFile('/etc/group', 'utf8'), name);
}

/** uid and primary gid of an existing user (e.g. nginx's www-data), or an error. */
export async function requireUser(name: string): Promise<Ownership> {
  const entry = await lookupUser(name);
  if (!entry) throw new Error(`user ${name} does not exist`);
  return { uid: entry.uid, gid: entry.gid };
}

/** shadow-utils tools fail when another one holds /etc/passwd's lock (several agents or tests on one host): retry those. */
async function shadowTool(argv: readonly string[]): Promise<ExecResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await exec(argv, { timeoutMs: 30_000 });
    if (result.code === 0 || attempt >= 20 || !/cannot lock|try again later/i.test(result.stderr)) return result;
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
  }
}

function failed(argv: readonly string[], result: ExecResult): Error {
  return new Error(`${argv.join(' ')} exited ${String(result.code)}: ${tail(result.stderr)}`);
}

/** Check, apply, verify: the account exists with a nologin shell. Returns its uid and gid, and whether it made it. */
export async function ensureUser(account: string, home: string, comment: string): Promise<Ownership & { created: boolean }> {
  let entry = await lookupUser(account);
  const created = !entry;
  if (!entry) {
    const argv = useraddArgv(account, home, comment);
    const result = await shadowTool(argv);
    // 9: the name is taken -- a concurrent run of the same step won; verify below.
    if (result.code !== 0 && result.code !== 9) throw failed(argv, result);
    entry = await lookupUser(account);
  } else if (entry.shell !== NOLOGIN_SHELL) {
    const argv = usermodShellArgv(account);
    const result = await shadowTool(argv);
    if (result.code !== 0) throw failed(argv, result);
    entry = await lookupUser(account);
  }
  if (!entry || entry.shell !== NOLOGIN_SHELL) throw new Error(`user ${account} is missing or has a login shell after useradd`);
  const gid = await lookupGroup(account);
  if (gid !== entry.gid) throw new Error(`user ${account}'s primary group is not its own group ${account}`);
  return { uid: entry.uid, gid: entry.gid, created };
}

/** The `Uid:` line of /proc/<pid>/status: real, effective, saved, filesystem uid. */
export function parseStatusUids(status: string): number[] {
  const line = status.split('\n').find((l) => l.startsWith('Uid:'));
  return line ? line.slice(4).trim().split(/\s+/).map(Number) : [];
}

/** PIDs of every process that runs as `uid` (any of its uids), from /proc. */
export async function processesOf(uid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (parseStatusUids(status).includes(uid)) out.push(Number(entry));
  }
  return out;
}

/**
 * Removes the account and its group; both already gone is fine. Whatever still runs as the user
 * (a stray WP-CLI, a worker of a master killed earlier) is killed first: userdel refuses otherwise.
 */
export async function removeUser(account: string): Promise<void> {
  const entry = await lookupUser(account);
  if (entry) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = await processesOf(entry.uid);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  if (entry) {
    const argv = userdelArgv(account);
    const result = await shadowTool(argv);
    // 6: no such user (removed concurrently).
    if (result.code !== 0 && result.code !== 6) throw failed(argv, result);
  }
  if ((await lookupGroup(account)) !== undefined) {
    const argv = groupdelArgv(account);
    const result = await shadowTool(argv);
    // 6: no such group (userdel removed it).
    if (result.code !== 0 && result.code !== 6) throw failed(argv, result);
  }
  if ((await lookupUser(account)) || (await lookupGroup(account)) !== undefined) throw new Error(`user or group ${account} still exists after userdel`);
}
