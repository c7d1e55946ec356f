import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lchown, lstat, mkdir, open, readFile, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface Ownership {
  readonly uid: number;
  readonly gid: number;
}

export interface FileOptions {
  readonly mode: number;
  /** Default: root (the agent). */
  readonly owner?: Ownership;
}

/** True when `error` is a Node system error with one of these codes (ENOENT, EEXIST, ...). */
export function isErrno(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && codes.includes(String(error.code));
}

/** The file's text, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes a file so readers see either the old or the new content, never a half: a temp file in
 * the same directory, created with its final mode and owner before any byte is written, renamed over.
 */
export async function writeFileAtomic(path: string, content: string, options: FileOptions): Promise<void> {
  const temp = tempName(path);
  const handle = await open(temp, 'wx', options.mode);
  try {
    if (options.owner) await handle.chown(options.owner.uid, options.owner.gid);
    await handle.chmod(options.mode);
    await handle.writeFile(content, 'utf8');
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Writes `content` only when the file differs (content, mode or owner). Returns true when it wrote. */
export async function ensureFile(path: string, content: string, options: FileOptions): Promise<boolean> {
  const current = await readIfExists(path);
  if (current === content) {
    const st = await lstat(path);
    const owner = options.owner ?? { uid: 0, gid: 0 };
    if (st.isFile() && (st.mode & 0o7777) === options.mode && st.uid === owner.uid && st.gid === owner.gid) return false;
  }
  await writeFileAtomic(path, content, options);
  return true;
}

/**
 * A directory with exactly this mode and owner. A symlink or file in its place is an error, and
 * owner and mode are changed through a descriptor opened with O_NOFOLLOW: the agent (root) never
 * follows a link a site user planted, not even one swapped in after the check.
 */
export async function ensureDir(path: string, options: FileOptions): Promise<void> {
  try {
    await mkdir(path, { mode: options.mode });
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    if (isErrno(error, 'ELOOP', 'ENOTDIR')) throw new Error(`${path} exists and is not a directory`);
    throw error;
  }
  try {
    const st = await handle.stat();
    const owner = options.owner ?? { uid: 0, gid: 0 };
    if (st.uid !== owner.uid || st.gid !== owner.gid) await handle.chown(owner.uid, owner.gid);
    // chmod after chown: chown clears the setgid bit on some systems.
    if ((st.mode & 0o7777) !== options.mode || st.uid !== owner.uid || st.gid !== owner.gid) await handle.chmod(options.mode);
  } finally {
    await handle.close();
  }
}

/** Points `path` at `target` atomically (a new symlink renamed over the old one). */
export async function symlinkAtomic(target: string, path: string, owner?: Ownership): Promise<void> {
  const temp = tempName(path);
  await symlink(target, temp);
  try {
    if (owner) await lchown(temp, owner.uid, owner.gid);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** True when something (even a dangling symlink) exists at `path`. */
export async function present(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return false;
    throw error;
  }
}
