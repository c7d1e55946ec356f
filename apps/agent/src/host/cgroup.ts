import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from './safe-fs.js';

export type CgroupLayout = 'v1' | 'v2';

/**
 * Which cgroup filesystem is mounted at `root`: v2 (one unified hierarchy: cgroup.controllers
 * at the root) or v1 (memory and cpu as separate hierarchies under root/memory and root/cpu).
 */
export function detectLayout(root: string, exists: (path: string) => boolean = existsSync): CgroupLayout | undefined {
  if (exists(join(root, 'cgroup.controllers'))) return 'v2';
  if (exists(join(root, 'memory', 'memory.limit_in_bytes')) && exists(join(root, 'cpu', 'cpu.cfs_quota_us'))) return 'v1';
  return undefined;
}

/** /proc/<pid>/cgroup parsed: v1 controller (or `name=` hierarchy) -> path; '' -> the v2 path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, controllers = '', path = ''] = match;
    if (controllers === '') out.set('', path);
    for (const c of controllers.split(',')) if (c) out.set(c, path);
  }
  return out;
}

export interface CgroupBase {
  readonly root: string;
  readonly prefix: string;
  /** 'self': below the agent's own cgroup in each hierarchy (see HostSettings.cgroup). */
  readonly relativeTo?: 'root' | 'self' | undefined;
}

/** The site's cgroup directories: one per v1 hierarchy (memory, cpu), or one v2 directory. Pure. */
export function siteCgroupDirs(layout: CgroupLayout, base: CgroupBase, account: string, self: ReadonlyMap<string, string>): string[] {
  const own = (controller: string) => (base.relativeTo === 'self' ? (self.get(controller) ?? '/') : '/');
  if (layout === 'v2') return [join(base.root, own(''), base.prefix, account)];
  return [join(base.root, 'memory', own('memory'), base.prefix, account), join(base.root, 'cpu', own('cpu'), base.prefix, account)];
}

/** The limit files to write in each of siteCgroupDirs' directories (same order). Pure. */
export function limitFiles(layout: CgroupLayout, limits: { readonly memoryMib: number; readonly cpuPercent: number }): Array<Array<[string, string]>> {
  const bytes = String(limits.memoryMib * 1024 * 1024);
  const period = 100_000;
  // cpuPercent is a share of ONE core: 50 -> half a core, 200 -> two cores.
  const quota = String(Math.round((limits.cpuPercent * period) / 100));
  if (layout === 'v2') return [[['memory.max', bytes], ['cpu.max', `${quota} ${period}`]]];
  return [[['memory.limit_in_bytes', bytes]], [['cpu.cfs_period_us', String(period)], ['cpu.cfs_quota_us', quota]]];
}

async function readTrim(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** A site's cgroup(s) on this host: create with limits, move processes in, remove. */
export class SiteCgroup {
  private constructor(
    readonly layout: CgroupLayout,
    readonly dirs: readonly string[],
    private readonly base: CgroupBase,
  ) {}

  static async locate(base: CgroupBase, account: string): Promise<SiteCgroup> {
    const layout = detectLayout(base.root);
    if (!layout) throw new Error(`no cgroup v1 memory+cpu or v2 hierarchy at ${base.root}`);
    const self = base.relativeTo === 'self' ? parseProcCgroup(await readFile('/proc/self/cgroup', 'utf8')) : new Map<string, string>();
    return new SiteCgroup(layout, siteCgroupDirs(layout, base, account, self), base);
  }

  /** Check, apply, verify: the directories exist and hold these limits. */
  async ensure(limits: { readonly memoryMib: number; readonly cpuPercent: number }): Promise<void> {
    if (this.layout === 'v2') await this.enableV2Controllers();
    const files = limitFiles(this.layout, limits);
    for (const [i, dir] of this.dirs.entries()) {
      await mkdir(dir, { recursive: true });
      for (const [file, value] of files[i] ?? []) {
        const path = join(dir, file);
        if ((await readTrim(path)) !== value) await writeFile(path, value);
      }
      for (const [file, value] of files[i] ?? []) {
        const now = await readTrim(join(dir, file));
        // v1 rounds memory limits to the page size; the page size divides every MiB value.
        if (now !== value) throw new Error(`${join(dir, file)} is ${String(now)} after writing ${value}`);
      }
    }
  }

  /** v2 only: enable memory and cpu for the children of every directory from the root down to the prefix. */
  private async enableV2Controllers(): Promise<void> {
    const site = this.dirs[0];
    if (!site) return;
    const parents: string[] = [];
    for (let dir = join(site, '..'); dir.startsWith(this.base.root) && dir !== this.base.root; dir = join(dir, '..')) parents.unshift(dir);
    parents.unshift(this.base.root);
    for (const dir of parents) {
      await mkdir(dir, { recursive: true });
      const enabled = ((await readTrim(join(dir, 'cgroup.subtree_control'))) ?? '').split(' ');
      for (const controller of ['memory', 'cpu']) if (!enabled.includes(controller)) await writeFile(join(dir, 'cgroup.subtree_control'), `+${controller}`);
    }
  }

  /** Moves each PID (the master, and its workers if any) into every site directory. */
  async adopt(pids: readonly number[]): Promise<void> {
    for (const dir of this.dirs) {
      for (const pid of pids) {
        try {
          await writeFile(join(dir, 'cgroup.procs'), String(pid));
        } catch (error) {
          if (!isErrno(error, 'ESRCH')) throw error; // exited meanwhile
        }
      }
    }
  }

  /** PIDs in the site's cgroup (the first directory: memory for v1). */
  async pids(): Promise<number[]> {
    const dir = this.dirs[0];
    const text = dir ? await readTrim(join(dir, 'cgroup.procs')) : undefined;
    return (text ?? '').split('\n').filter(Boolean).map(Number);
  }

  /** Removes the directories; anything still inside is killed first. Already gone is fine. */
  async remove(): Promise<void> {
    for (const dir of this.dirs) {
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          if (isErrno(error, 'ENOENT')) break;
          if (!isErrno(error, 'EBUSY') || attempt >= 100) throw error;
          const procs = ((await readTrim(join(dir, 'cgroup.procs'))) ?? '').split('\n').filter(Boolean);
          for (const pid of procs) {
            try {
              process.kill(Number(pid), 'SIGKILL');
            } catch {
              // exited meanwhile
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }
  }
}
