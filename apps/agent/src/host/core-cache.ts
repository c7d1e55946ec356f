import { createHash, randomBytes } from 'node:crypto';
import { lchown, lstat, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { exec, tail } from './exec.js';
import { isErrno, type Ownership } from './safe-fs.js';

/**
 * Fingerprint of a WordPress source tree, cheap enough for every provision: every directory's
 * mtime and inode (dpkg replaces files by rename, which touches their directory), every symlink
 * target's (Debian's tree links into /etc and /usr/share), and version.php's content.
 */
export async function sourceFingerprint(source: string): Promise<string> {
  const hash = createHash('sha256');
  const seen = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const st = await stat(dir);
    // A symlinked directory is followed once: a link cycle must not loop forever.
    if (seen.has(`${st.dev}:${st.ino}`)) return;
    seen.add(`${st.dev}:${st.ino}`);
    hash.update(`d ${relative(source, dir)} ${st.mtimeMs} ${st.ino}\n`);
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        if (target?.isDirectory()) await walk(path);
        else hash.update(`l ${relative(source, path)} ${target ? `${target.mtimeMs} ${target.ino} ${target.size}` : 'dangling'}\n`);
      }
    }
  };
  await walk(source);
  hash.update(await readFile(join(source, 'wp-includes', 'version.php')));
  return hash.digest('hex').slice(0, 16);
}

/** Throws unless a WordPress tree has a theme: without one, WordPress answers every page with an empty 200. */
export async function requireTheme(tree: string, source: string): Promise<void> {
  const themes = await readdir(join(tree, 'wp-content', 'themes'), { withFileTypes: true }).catch(() => []);
  if (!themes.some((entry) => entry.isDirectory())) throw new Error(`${source} has no theme in wp-content/themes (Debian: install wordpress-theme-twentytwentythree)`);
}

/**
 * The node's pristine, dereferenced copy of the WordPress source, made once per fingerprint:
 * <cacheRoot>/<fingerprint>/, root-owned and never modified, so releases can hard-link it.
 * Other fingerprints' copies are removed (releases keep their inodes through their own links).
 */
export async function ensureCoreCache(source: string, cacheRoot: string): Promise<string> {
  const fingerprint = await sourceFingerprint(source);
  const dir = join(cacheRoot, fingerprint);
  if (await lstat(dir).then((s) => s.isDirectory()).catch(() => false)) return dir;
  await mkdir(cacheRoot, { recursive: true, mode: 0o700 });
  const staging = join(cacheRoot, `.staging-${randomBytes(4).toString('hex')}`);
  try {
    const copy = await exec(['/bin/cp', '-R', '-L', '--', source, staging], { timeoutMs: 300_000 });
    if (copy.code !== 0) throw new Error(`copying WordPress core from ${source} failed: ${tail(copy.stderr)}`);
    await requireTheme(staging, source);
    await rename(staging, dir).catch((error: unknown) => {
      // A concurrent provision made the same copy first: use theirs.
      if (!isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  for (const entry of await readdir(cacheRoot)) {
    if (entry !== fingerprint && !entry.startsWith('.staging-')) await rm(join(cacheRoot, entry), { recursive: true, force: true });
  }
  return dir;
}

/**
 * A release's core from the cache, into `tree` in the root-only build area: hard links (`cp -al`,
 * ~45 ms instead of ~200 ms for a copy), or a copy when the cache is on another filesystem. The
 * files stay root-owned and read-only to the site (core is immutable; a new release replaces it),
 * every directory becomes the site user's (WordPress may create files in wp-content). Path-based
 * work is safe here: no tenant reaches the build area. True when it hard-linked.
 */
export async function copyCore(cache: string, tree: string, owner: Ownership): Promise<boolean> {
  let linked = true;
  const link = await exec(['/bin/cp', '-a', '-l', '--', cache, tree], { timeoutMs: 300_000 });
  if (link.code !== 0) {
    if (!/cross-device|Invalid cross-device link/i.test(link.stderr)) throw new Error(`hard-linking WordPress core from ${cache} failed: ${tail(link.stderr)}`);
    await rm(tree, { recursive: true, force: true });
    const copy = await exec(['/bin/cp', '-a', '--', cache, tree], { timeoutMs: 300_000 });
    if (copy.code !== 0) throw new Error(`copying WordPress core from ${cache} failed: ${tail(copy.stderr)}`);
    linked = false;
  }
  const own = async (dir: string): Promise<void> => {
    await lchown(dir, owner.uid, owner.gid);
    for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) await own(join(dir, entry.name));
  };
  await own(tree);
  return linked;
}
