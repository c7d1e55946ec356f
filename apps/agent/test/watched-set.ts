// What the hostile-tenant specs watch: a set of trees (a decoy /etc, the agent's state, another
// site) snapshotted before an attack and compared after it. Nothing is followed: a symlink is
// recorded as its target text, a FIFO or device by its metadata only.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface Snapshot {
  readonly paths: readonly string[];
  /** path -> "type mode uid:gid links mtime size content-or-target" */
  readonly entries: ReadonlyMap<string, string>;
}

async function record(path: string, out: Map<string, string>): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) {
    out.set(path, 'absent');
    return;
  }
  const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} links ${st.nlink} mtime ${st.mtimeMs}`;
  if (st.isSymbolicLink()) out.set(path, `symlink ${meta} -> ${await readlink(path)}`);
  else if (st.isFile()) out.set(path, `file ${meta} size ${st.size} sha256 ${createHash('sha256').update(await readFile(path)).digest('hex')}`);
  else if (st.isDirectory()) {
    out.set(path, `dir ${meta}`);
    for (const name of (await readdir(path)).sort()) await record(join(path, name), out);
  } else out.set(path, `special ${meta}`);
}

/** Owner, mode, link count, mtime and content (or link target) of every entry under each path. */
export async function snapshot(paths: readonly string[]): Promise<Snapshot> {
  const entries = new Map<string, string>();
  for (const path of paths) await record(path, entries);
  return { paths, entries };
}

/** What changed since `before` under the same paths, one line per entry ("path: was -> now"); [] when nothing did. */
export async function diff(before: Snapshot): Promise<string[]> {
  const now = (await snapshot(before.paths)).entries;
  const changes: string[] = [];
  for (const path of new Set([...before.entries.keys(), ...now.keys()])) {
    const was = before.entries.get(path) ?? 'absent';
    const is = now.get(path) ?? 'absent';
    if (was !== is) changes.push(`${path}: ${was} -> ${is}`);
  }
  return changes;
}
