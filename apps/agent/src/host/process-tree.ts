import { lstat, readdir, readFile } from 'node:fs/promises';
import { isErrno, readIfExists } from './safe-fs.js';

/** The parent PID in a /proc/<pid>/stat line (the command name in parentheses may hold anything). Pure. */
export function parentOf(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** The state letter of a /proc/<pid>/stat line (after the parenthesised comm, which may hold spaces). Pure. */
export function processState(stat: string): string {
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** The number a pid file holds (a PID above 1), not checked against /proc. */
export async function readPid(pidFile: string): Promise<number | undefined> {
  const pid = Number((await readIfExists(pidFile))?.trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** The PID in `pidFile` when it names a live (not zombie) process whose /proc cmdline `matches` accepts. */
export async function runningByPidFile(pidFile: string, matches: (cmdline: string) => boolean): Promise<number | undefined> {
  const pid = await readPid(pidFile);
  if (pid === undefined) return undefined;
  try {
    const [cmdline, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
    return matches(cmdline) && processState(stat) !== 'Z' ? pid : undefined;
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ESRCH')) return undefined;
    throw error;
  }
}

/** `root` and every process below it (from /proc), the root first. */
export async function processTree(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    const parent = stat === undefined ? undefined : parentOf(stat);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] ?? 0) ?? []));
  return tree;
}

/** SIGKILL to a process and its descendants (git's transport helpers die with the clone). */
export async function killTree(root: number): Promise<void> {
  for (const pid of await processTree(root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** Direct children of a process (from /proc/<pid>/task/<tid>/children). */
export async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  try {
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      const text = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const p of text.split(/\s+/)) if (p) out.push(Number(p));
    }
  } catch (error) {
    if (!isErrno(error, 'ENOENT', 'ESRCH')) throw error;
  }
  return out;
}

export interface ProcessInfo {
  readonly cmdline: string;
  readonly parent: number | undefined;
  /** Its owner (the uid of /proc/<pid>); undefined in hand-made snapshots. */
  readonly uid?: number;
}

/**
 * Workers whose master is gone: processes `isChild` accepts whose parent is no process `isMaster`
 * accepts. A master killed hard (SIGKILL, the OOM killer) leaves its workers running: nginx's
 * still hold the listening sockets (a new master cannot bind), PHP-FPM's hold memory and the old
 * socket for ever. Pure over a snapshot (pid -> cmdline, parent).
 */
export function orphans(processes: ReadonlyMap<number, ProcessInfo>, isChild: (cmdline: string) => boolean, isMaster: (cmdline: string) => boolean): number[] {
  const masters = new Set([...processes].filter(([, p]) => isMaster(p.cmdline)).map(([pid]) => pid));
  return [...processes].filter(([, p]) => isChild(p.cmdline) && !masters.has(p.parent ?? 0)).map(([pid]) => pid);
}

/** Live (not zombie) processes whose cmdline starts with `prefix`: cmdline (NULs as read) and parent. */
export async function processesNamed(prefix: string): Promise<Map<number, ProcessInfo>> {
  const out = new Map<number, ProcessInfo>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.startsWith(prefix)) continue;
      const [stat, owner] = await Promise.all([readFile(`/proc/${entry}/stat`, 'utf8'), lstat(`/proc/${entry}`)]);
      if (processState(stat) !== 'Z') out.set(Number(entry), { cmdline, parent: parentOf(stat), uid: owner.uid });
    } catch {
      // exited while listed
    }
  }
  return out;
}

/** `signal` to each process, then SIGKILL to whichever is still there (by `stillThere`) after `graceMs`. */
export async function stopProcesses(pids: readonly number[], signal: NodeJS.Signals, graceMs: number, stillThere: () => Promise<ReadonlySet<number> | ReadonlyMap<number, unknown>>): Promise<void> {
  const send = (list: readonly number[], name: NodeJS.Signals) => {
    for (const pid of list) {
      try {
        process.kill(pid, name);
      } catch {
        // gone meanwhile
      }
    }
  };
  send(pids, signal);
  const deadline = Date.now() + graceMs;
  let left = [...pids];
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await stillThere();
    left = left.filter((pid) => now.has(pid));
  }
  send(left, 'SIGKILL');
}
