import { readdir, readFile } from 'node:fs/promises';
import { isErrno } from './safe-fs.js';

/** The parent PID in a /proc/<pid>/stat line (the command name in parentheses may hold anything). Pure. */
export function parentOf(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
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
