import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks (reaped children count with their parent). */
  readonly ticks: number;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields start after its last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const at = (field: number) => Number(fields[field - 3]);
    return { pid: Number(pid), ppid: at(4), ticks: at(14) + at(15) + at(16) + at(17) };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU time (ms) used so far by a process and all its descendants, from /proc (Linux only). */
export function processTreeCpuMs(root: number): number {
  const stats = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(readStat)
    .filter((stat): stat is ProcStat => stat !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  let ticks = 0;
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      ticks += child.ticks;
      walk(child.pid);
    }
  };
  ticks += stats.find((stat) => stat.pid === root)?.ticks ?? 0;
  walk(root);
  return (ticks * 1000) / TICKS_PER_SECOND;
}
