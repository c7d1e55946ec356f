import { randomBytes } from 'node:crypto';
import { constants, type Dirent, type Stats } from 'node:fs';
import { lchown, link, lstat, mkdir, open, readdir, readlink, rename, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { exec, tail } from './exec.js';

/**
 * The agent's one way to touch files (ADR 0019): root never follows a path a tenant can change.
 * A `Dir` is a directory descriptor; every operation names ONE entry in it and reaches it through
 * `/proc/self/fd/<fd>/<name>`, openat() for Node: the only component before the name is the
 * agent's own descriptor, and the name itself is never followed (O_NOFOLLOW on open; mkdir,
 * unlink, rename, symlink, link and lstat do not follow a final symlink). A walk from a trusted
 * directory (a configured root: the sites root, the state dir) opens one component at a time and
 * refuses a symlink at every one. Files are opened non-blocking and read only when fstat says
 * regular: a FIFO, device or socket planted in place of a managed file is refused at once.
 */

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

/** Something the agent will not follow or read stands where it expects a directory or a regular file. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
}

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

function kind(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  return 'a regular file';
}

/** A directory entry's name: one component, never `.` or `..` (a name can only stay in its directory). */
export function singleName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw new Error(`${JSON.stringify(name)} is not a single file name`);
  return name;
}

function tempName(name: string): string {
  return `.${name}.tmp-${randomBytes(4).toString('hex')}`;
}

export class Dir {
  private constructor(
    /** For messages only: where the walk went (the directory may have been moved since). */
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /**
   * `trusted` as configured (its own ancestors are root's), then each of `below` opened inside the
   * previous one without following: a symlink at any of them is an UnsafePathError.
   */
  static async open(trusted: string, below: readonly string[] = []): Promise<Dir> {
    let dir = new Dir(trusted, await open(trusted, O_RDONLY | O_DIRECTORY));
    for (const name of below) {
      try {
        const next = await dir.child(name);
        await dir.close();
        dir = next;
      } catch (error) {
        await dir.close();
        throw error;
      }
    }
    return dir;
  }

  /** fn with `Dir.open(trusted, below)`, closed afterwards. */
  static async with<T>(trusted: string, below: readonly string[], fn: (dir: Dir) => Promise<T>): Promise<T> {
    const dir = await Dir.open(trusted, below);
    try {
      return await fn(dir);
    } finally {
      await dir.close();
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** The entry `name` of this directory, reachable only through the descriptor. */
  at(name: string): string {
    return `/proc/self/fd/${this.handle.fd}/${singleName(name)}`;
  }

  private where(name: string): string {
    return `${this.path}/${name}`;
  }

  stat(): Promise<Stats> {
    return this.handle.stat();
  }

  /** The entry's own metadata (a symlink is a symlink), or undefined when there is none. */
  async lstat(name: string): Promise<Stats | undefined> {
    return lstat(this.at(name)).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    });
  }

  entries(): Promise<Dirent[]> {
    return readdir(`/proc/self/fd/${this.handle.fd}`, { withFileTypes: true });
  }

  /** The subdirectory `name`; a symlink or anything else there is an UnsafePathError. */
  async child(name: string): Promise<Dir> {
    try {
      return new Dir(this.where(name), await open(this.at(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK));
    } catch (error) {
      if (!isErrno(error, 'ELOOP', 'ENOTDIR')) throw error;
      const st = await this.lstat(name);
      throw new UnsafePathError(`${this.where(name)} is ${st ? kind(st) : 'gone'}, not a directory: not followed`);
    }
  }

  /** The subdirectory `name` with exactly this mode and owner (made if missing), changed through its descriptor. */
  async ensureDir(name: string, options: FileOptions): Promise<Dir> {
    await mkdir(this.at(name), { mode: options.mode }).catch((error: unknown) => {
      if (!isErrno(error, 'EEXIST')) throw error;
    });
    const dir = await this.child(name);
    try {
      const st = await dir.stat();
      const owner = options.owner ?? { uid: 0, gid: 0 };
      const owned = st.uid === owner.uid && st.gid === owner.gid;
      if (!owned) await dir.handle.chown(owner.uid, owner.gid);
      // chmod after chown: chown clears the setgid bit on some systems.
      if ((st.mode & 0o7777) !== options.mode || !owned) await dir.handle.chmod(options.mode);
    } catch (error) {
      await dir.close();
      throw error;
    }
    return dir;
  }

  /** The regular file `name`, open for reading (non-blocking, not followed); undefined when absent. */
  async openFile(name: string): Promise<{ handle: FileHandle; stat: Stats } | undefined> {
    let handle;
    try {
      handle = await open(this.at(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      if (isErrno(error, 'ELOOP')) throw new UnsafePathError(`${this.where(name)} is a symlink, not a regular file: not followed`);
      throw error;
    }
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      throw new UnsafePathError(`${this.where(name)} is ${kind(stat)}, not a regular file: not read`);
    }
    return { handle, stat };
  }

  /** The text of the regular file `name` and its metadata (from the same descriptor); undefined when absent. */
  async readFile(name: string): Promise<{ content: string; stat: Stats } | undefined> {
    const file = await this.openFile(name);
    if (!file) return undefined;
    try {
      return { content: await file.handle.readFile('utf8'), stat: file.stat };
    } finally {
      await file.handle.close();
    }
  }

  /**
   * Replaces `name` so readers see the old or the new content, never a half: a temp file created
   * here (O_EXCL: never an existing entry), owner and mode set before any byte is written, renamed
   * over `name` (rename replaces the entry, whatever it was, and follows nothing).
   */
  async writeFileAtomic(name: string, content: string, options: FileOptions): Promise<void> {
    const temp = tempName(singleName(name));
    const handle = await open(this.at(temp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, options.mode);
    try {
      try {
        if (options.owner) await handle.chown(options.owner.uid, options.owner.gid);
        await handle.chmod(options.mode);
        await handle.writeFile(content, 'utf8');
      } finally {
        await handle.close();
      }
      await rename(this.at(temp), this.at(name));
    } catch (error) {
      await this.unlink(temp);
      throw error;
    }
  }

  /**
   * Writes `name` only when it differs (content, mode or owner), returns true when it wrote.
   * Anything but a regular file there (a planted symlink or FIFO) is replaced, never followed.
   */
  async ensureFile(name: string, content: string, options: FileOptions): Promise<boolean> {
    const current = await this.readFile(name).catch((error: unknown) => {
      if (error instanceof UnsafePathError) return undefined;
      throw error;
    });
    const owner = options.owner ?? { uid: 0, gid: 0 };
    if (current?.content === content) {
      const st = current.stat;
      if ((st.mode & 0o7777) === options.mode && st.uid === owner.uid && st.gid === owner.gid) return false;
    }
    await this.writeFileAtomic(name, content, options);
    return true;
  }

  /** The target of the symlink `name`, or undefined when there is none. */
  async readlink(name: string): Promise<string | undefined> {
    return readlink(this.at(name)).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT', 'EINVAL')) return undefined;
      throw error;
    });
  }

  /** Points the symlink `name` (`owner`'s, default root's) at `target` atomically (a new symlink renamed over the entry). */
  async symlinkAtomic(name: string, target: string, owner?: Ownership): Promise<void> {
    const temp = tempName(singleName(name));
    await symlink(target, this.at(temp));
    try {
      if (owner) await lchown(this.at(temp), owner.uid, owner.gid);
      await rename(this.at(temp), this.at(name));
    } catch (error) {
      await this.unlink(temp);
      throw error;
    }
  }

  /** Moves the entry `name` (whatever it is, not followed) to `to`'s entry `toName`; false when there was none. */
  async rename(name: string, to: Dir, toName: string): Promise<boolean> {
    return rename(this.at(name), to.at(toName)).then(
      () => true,
      (error: unknown) => {
        if (isErrno(error, 'ENOENT')) return false;
        throw error;
      },
    );
  }

  /** A hard link at `to` (a path in a root-only area) of the entry `name` (link(2) does not follow a symlink at `name`). */
  link(name: string, to: string): Promise<void> {
    return link(this.at(name), to);
  }

  /** Removes the non-directory entry `name` if there is one. */
  async unlink(name: string): Promise<void> {
    await unlink(this.at(name)).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error;
    });
  }
}

/** The directory `below` the tree at `root`: root's parent is trusted, root and every component below are walked without following. */
export function openTree(root: string, below: readonly string[] = []): Promise<Dir> {
  return Dir.open(dirname(root), [basename(root), ...below]);
}

/** fn with `openTree(root, below)`, closed afterwards. */
export function inTree<T>(root: string, below: readonly string[], fn: (dir: Dir) => Promise<T>): Promise<T> {
  return Dir.with(dirname(root), [basename(root), ...below], fn);
}

/**
 * Removes a tree whose every ancestor is root's (a root-only area): GNU rm walks it with openat()
 * and O_NOFOLLOW and checks each directory it enters, so a process of the tenant still holding a
 * descriptor inside cannot steer it out; --one-file-system keeps it off any mount point.
 */
export async function removeTree(path: string): Promise<void> {
  const result = await exec(['/bin/rm', '-rf', '--one-file-system', '--', path], { timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`removing ${path} failed: ${tail(result.stderr || result.stdout)}`);
}

/**
 * Moves the entry `name` of a tenant's directory into the root-only `area` (same filesystem) as
 * `<prefix>.<random>`, then removes it there: the tenant can no longer reach the top of what is
 * removed. Nothing there is fine.
 */
export async function discard(from: Dir, name: string, area: string, prefix: string): Promise<void> {
  const trash = `${singleName(prefix)}.${randomBytes(6).toString('hex')}`;
  const moved = await Dir.with(area, [], (to) => from.rename(name, to, trash));
  if (moved) await removeTree(`${area}/${trash}`);
}

// Root's own files (state dir, nginx and PHP-FPM config): the parent is a trusted directory.

/** The regular file's text, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  return Dir.with(dirname(path), [], async (dir) => (await dir.readFile(basename(path)))?.content).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  });
}

export function writeFileAtomic(path: string, content: string, options: FileOptions): Promise<void> {
  return Dir.with(dirname(path), [], (dir) => dir.writeFileAtomic(basename(path), content, options));
}

/** A directory with exactly this mode and owner; a symlink or file in its place is an UnsafePathError. */
export async function ensureDir(path: string, options: FileOptions): Promise<void> {
  await Dir.with(dirname(path), [], async (dir) => (await dir.ensureDir(basename(path), options)).close());
}
