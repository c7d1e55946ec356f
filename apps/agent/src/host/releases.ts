import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lchown, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyCore, ensureCoreCache } from './core-cache.js';
import { StepError } from './errors.js';
import { GitFetchError } from './git.js';
import { RELEASE_NAME_PATTERN, releaseName, type SitePaths } from './naming.js';
import { STAGING_PLUGIN } from './staging.js';
import { discard, Dir, ensureDir, inTree, isErrno, openTree, removeTree, UnsafePathError, type Ownership } from './safe-fs.js';

/** The node's must-use plugin in every release (templates/wordpress/pressluft-cache.php): the page cache's purge requests. */
export const CACHE_PLUGIN = 'pressluft-cache.php';

/** Releases kept when the spec does not say. */
export const DEFAULT_KEEP_RELEASES = 5;

/** Release directory names, newest first (names are UTC timestamps: lexical order is time order). */
export function sortReleases(names: readonly string[]): string[] {
  return names.filter((n) => RELEASE_NAME_PATTERN.test(n)).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}

/** The newest release older than `current` (what a rollback goes back to). */
export function previousRelease(releases: readonly string[], current: string | undefined): string | undefined {
  if (current === undefined) return undefined;
  return sortReleases(releases).find((r) => r < current);
}

/**
 * The releases to delete: everything but the newest `keep`, `current`, and the one before
 * `current` (a rollback target must survive any prune).
 */
export function releasesToPrune(releases: readonly string[], current: string | undefined, keep: number): string[] {
  const sorted = sortReleases(releases);
  const kept = new Set(sorted.slice(0, Math.max(1, keep)));
  if (current !== undefined) kept.add(current);
  const before = previousRelease(sorted, current);
  if (before !== undefined) kept.add(before);
  return sorted.filter((r) => !kept.has(r));
}

/** The keep-N of a spec: 0 (unset) is the default; at least 2 (current and its rollback target). */
export function keepCount(keepReleases: number | undefined): number {
  const n = keepReleases === undefined || keepReleases === 0 ? DEFAULT_KEEP_RELEASES : keepReleases;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new StepError('validate', 'InvalidSite', `keepReleases must be an integer between 1 and 100, got ${n}`);
  return Math.max(2, n);
}

/** A new release's name: the UTC time, or one second after the newest existing release (two deploys in one second). */
export function nextReleaseName(existing: readonly string[], now: Date): string {
  let at = now.getTime();
  const newest = sortReleases(existing)[0];
  let name = releaseName(new Date(at));
  while (newest !== undefined && name <= newest) {
    at += 1000;
    name = releaseName(new Date(at));
  }
  return name;
}

export function checkReleaseName(name: string): string {
  if (!RELEASE_NAME_PATTERN.test(name)) throw new StepError('validate', 'InvalidRelease', `release ${JSON.stringify(name)} is not a release name like 20261129T181500Z`);
  return name;
}

/** The release directories of a site, newest first. */
export async function listReleases(paths: SitePaths): Promise<string[]> {
  const entries = await inTree(paths.root, ['releases'], (releases) => releases.entries()).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  });
  return sortReleases(entries.filter((e) => e.isDirectory()).map((e) => e.name));
}

// --- WordPress version ---------------------------------------------------------------------

/** `$wp_version` from a version.php's text. Pure. */
export function parseWpVersion(text: string, where: string): string {
  const match = /\$wp_version\s*=\s*'([^']+)'/.exec(text);
  if (!match?.[1]) throw new Error(`${where}/wp-includes/version.php holds no $wp_version`);
  return match[1];
}

/** `$wp_version` from a tree's wp-includes/version.php (a root-only tree). */
export async function coreVersion(tree: string): Promise<string> {
  return parseWpVersion(await readFile(join(tree, 'wp-includes', 'version.php'), 'utf8'), tree);
}

/** `$wp_version` of a site's release, read through safe-fs (the tenant's tree: nothing followed); undefined when absent. */
export async function releaseWordPressVersion(paths: SitePaths, release: string): Promise<string | undefined> {
  const file = await inTree(paths.root, ['releases', checkReleaseName(release), 'wp-includes'], (dir) => dir.readFile('version.php')).catch(() => undefined);
  return file ? parseWpVersion(file.content, `releases/${release}`) : undefined;
}

/** Does an available core version satisfy a requested one? '' takes any; '6.1' takes 6.1.x; '6.1.9' only itself. */
export function versionSatisfies(requested: string, available: string): boolean {
  if (requested === '' || requested === 'latest') return true;
  return available === requested || available.startsWith(`${requested}.`);
}

// --- building a release ------------------------------------------------------------------------

function digest(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    stream
      .on('data', (chunk: Buffer) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/**
 * Hard-links the previous release's `name` to `dest` (in the build area) when it is a root-owned
 * regular file with `src`'s content. The previous release is the tenant's: its file is opened
 * through `prev` without following, hashed from that descriptor, and the new link must be that
 * very inode (a swap between the check and link(2) is undone).
 */
async function linkSame(prev: Dir, name: string, src: string, dest: string): Promise<boolean> {
  const before = await prev.openFile(name).catch(() => undefined);
  if (!before) return false;
  try {
    const { stat } = before;
    if (stat.uid !== 0 || stat.size !== (await lstat(src)).size) return false;
    const [a, b] = await Promise.all([digest(createReadStream(src)), digest(before.handle.createReadStream({ start: 0, autoClose: false }))]);
    if (a !== b || !(await prev.link(name, dest).then(() => true, () => false))) return false;
    const linked = await lstat(dest);
    if (linked.ino === stat.ino && linked.dev === stat.dev) return true;
    await rm(dest, { force: true });
    return false;
  } finally {
    await before.handle.close();
  }
}

/** The previous release's subdirectory `name` (undefined for anything else: a symlink is not followed). */
async function previousChild(prev: Dir | undefined, name: string): Promise<Dir | undefined> {
  return prev?.child(name).catch(() => undefined);
}

/**
 * Copies the checkout's files over the release's wp-content (both in root-only areas): files
 * root-owned 0644 (a new release replaces them), directories the site's. A file identical to the
 * previous release's (root-owned, same size and content) is hard-linked instead; the previous
 * release is read only through `previous`'s descriptors. The checkout's .git and uploads/ (shared
 * data) are skipped; symlinks are refused (they could point nginx at another site's files).
 */
export async function overlayContent(source: string, wpContent: string, owner: Ownership, previous: Dir | undefined): Promise<{ copied: number; linked: number }> {
  const counts = { copied: 0, linked: 0 };
  const walk = async (from: string, to: string, prev: Dir | undefined, rel: string): Promise<void> => {
    for (const entry of await readdir(from, { withFileTypes: true })) {
      if (rel === '' && (entry.name === '.git' || entry.name === 'uploads')) continue;
      const src = join(from, entry.name);
      const dest = join(to, entry.name);
      const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const existing = await lstat(dest).catch(() => undefined);
      if (entry.isSymbolicLink()) throw new GitFetchError(`the repository holds a symlink (${relPath}): not allowed in a release`);
      if (entry.isDirectory()) {
        if (existing && !existing.isDirectory()) await rm(dest, { recursive: true, force: true });
        if (!existing?.isDirectory()) {
          await mkdir(dest, { mode: 0o755 });
          await lchown(dest, owner.uid, owner.gid);
        }
        const prevDir = await previousChild(prev, entry.name);
        try {
          await walk(src, dest, prevDir, relPath);
        } finally {
          await prevDir?.close();
        }
      } else if (entry.isFile()) {
        if (existing) await rm(dest, { recursive: true, force: true });
        if (prev && (await linkSame(prev, entry.name, src, dest))) {
          counts.linked++;
        } else {
          await copyFile(src, dest);
          await chmod(dest, 0o644);
          counts.copied++;
        }
      }
    }
  };
  await walk(source, wpContent, previous, '');
  return counts;
}

export interface BuiltRelease {
  readonly name: string;
  readonly dir: string;
  readonly coreVersion: string;
  readonly linkedCore: boolean;
  readonly content?: { readonly copied: number; readonly linked: number };
}

/** A release handed over under its staging name (releases/.staging-*): complete but for its dependencies; nothing points at it. */
export interface StagedRelease extends BuiltRelease {
  /** Its entry in releases/ until commitRelease renames it to `name`. */
  readonly entry: string;
}

/** Removes the entry `name` of the site's releases/ (a release, a staging dir, or whatever the tenant put there) without following it. */
export async function removeRelease(paths: SitePaths, name: string): Promise<void> {
  await inTree(paths.root, ['releases'], (releases) => discard(releases, name, paths.buildArea, paths.name));
}

/** Staging dirs a crashed build left in releases/ and the site's leftovers in the build area. */
async function removeLeftovers(paths: SitePaths): Promise<void> {
  for (const entry of await inTree(paths.root, ['releases'], (releases) => releases.entries())) {
    if (entry.name.startsWith('.staging-')) await removeRelease(paths, entry.name);
  }
  for (const entry of await Dir.with(paths.buildArea, [], (area) => area.entries())) {
    if (entry.name.startsWith(`${paths.name}.`)) await removeTree(join(paths.buildArea, entry.name));
  }
}

/**
 * Builds a release in the root-only build area, where no tenant reaches: WordPress core from the
 * node's pristine copy (hard links, or a copy across filesystems), directories chowned to the
 * site, the git checkout's wp-content over it (reusing the previous release's identical files),
 * wp-config.php and uploads linked to shared/. Only then is it handed over, one rename through the
 * descriptors into releases/.staging-<name>-*. The caller installs the dependencies there (as the
 * site user), then renames it into place (commitRelease) or removes it (removeRelease), and
 * health-checks it before anything points at it.
 */
export async function stageRelease(options: {
  readonly source: string;
  readonly coreCache: string;
  readonly paths: SitePaths;
  readonly owner: Ownership;
  readonly name: string;
  readonly wantedVersion: string;
  readonly content?: string;
  readonly previous?: string;
  /** CACHE_PLUGIN's content. */
  readonly cachePlugin: string;
  /** STAGING_PLUGIN's content for a staging site; undefined: the release must not hold it. */
  readonly stagingPlugin?: string | undefined;
}): Promise<StagedRelease> {
  const { paths, owner, name } = options;
  checkReleaseName(name);
  const cache = await ensureCoreCache(options.source, options.coreCache);
  const version = await coreVersion(cache);
  if (!versionSatisfies(options.wantedVersion, version)) {
    throw new StepError('release', 'WordPressVersionUnavailable', `WordPress ${options.wantedVersion} is not available on this node (it has ${version} from ${options.source})`);
  }
  await ensureDir(paths.buildArea, { mode: 0o700 });
  await removeLeftovers(paths);
  // Prefixed with the site's name: what a crash leaves here is the site's next build's to remove.
  const work = `${paths.name}.${randomBytes(6).toString('hex')}`;
  const tree = join(paths.buildArea, work);
  try {
    const linked = await copyCore(cache, tree, owner);
    let content: BuiltRelease['content'];
    if (options.content !== undefined) {
      const source = options.content;
      const previous = options.previous ? await openTree(paths.root, ['releases', options.previous, 'wp-content']).catch(() => undefined) : undefined;
      try {
        content = await overlayContent(source, join(tree, 'wp-content'), owner, previous);
      } finally {
        await previous?.close();
      }
    }
    await addNodePlugins(join(tree, 'wp-content'), options.cachePlugin, options.stagingPlugin, owner);
    const linkTo = async (target: string, path: string) => {
      await rm(path, { recursive: true, force: true });
      await symlink(target, path);
      await lchown(path, owner.uid, owner.gid);
    };
    await linkTo('../../shared/wp-config.php', join(tree, 'wp-config.php'));
    await linkTo('../../../shared/uploads', join(tree, 'wp-content', 'uploads'));
    const entry = `.staging-${name}-${randomBytes(6).toString('hex')}`;
    await inTree(paths.root, ['releases'], (releases) => Dir.with(paths.buildArea, [], (area) => area.rename(work, releases, entry)));
    return { name, entry, dir: join(paths.releases, entry), coreVersion: version, linkedCore: linked, ...(content ? { content } : {}) };
  } finally {
    await removeTree(tree);
  }
}

/**
 * wp-content/mu-plugins/CACHE_PLUGIN, and STAGING_PLUGIN for a staging site (root's, 0644), of a
 * tree in the build area, over whatever the repository put there (another site's STAGING_PLUGIN goes).
 */
async function addNodePlugins(wpContent: string, content: string, staging: string | undefined, owner: Ownership): Promise<void> {
  const dir = join(wpContent, 'mu-plugins');
  if (!(await lstat(dir).catch(() => undefined))?.isDirectory()) {
    await rm(dir, { force: true });
    await mkdir(dir, { mode: 0o755 });
    await lchown(dir, owner.uid, owner.gid);
  }
  for (const [name, text] of [[CACHE_PLUGIN, content], [STAGING_PLUGIN, staging]] as const) {
    const file = join(dir, name);
    await rm(file, { recursive: true, force: true });
    if (text === undefined) continue;
    await writeFile(file, text, { mode: 0o644, flag: 'wx' });
    await chmod(file, 0o644);
  }
}

/**
 * The same in a release already in the site's tree (a restored one: its backup may predate the
 * plugins, or come from a site of the other environment), through the tree's descriptors: the
 * tenant's directories are never followed.
 */
export async function ensureNodePlugins(paths: SitePaths, release: string, content: string, staging: string | undefined, owner: Ownership): Promise<void> {
  await inTree(paths.root, ['releases', checkReleaseName(release), 'wp-content'], async (wpContent) => {
    const plugins = await wpContent.ensureDir('mu-plugins', { mode: 0o755, owner });
    try {
      await plugins.writeFileAtomic(CACHE_PLUGIN, content, { mode: 0o644 });
      if (staging !== undefined) await plugins.writeFileAtomic(STAGING_PLUGIN, staging, { mode: 0o644 });
      else await discard(plugins, STAGING_PLUGIN, paths.buildArea, paths.name);
    } finally {
      await plugins.close();
    }
  });
}

/** Renames a staged release into place (releases/<name>) through the releases dir's descriptor; a failed rename removes it. */
export async function commitRelease(paths: SitePaths, staged: StagedRelease): Promise<BuiltRelease> {
  try {
    await inTree(paths.root, ['releases'], async (releases) => {
      if (!(await releases.rename(staged.entry, releases, staged.name))) throw new Error(`releases/${staged.entry} is gone`);
    });
  } catch (error) {
    await removeRelease(paths, staged.entry);
    throw error;
  }
  return { name: staged.name, dir: join(paths.releases, staged.name), coreVersion: staged.coreVersion, linkedCore: staged.linkedCore, ...(staged.content ? { content: staged.content } : {}) };
}

/** The release `current` points at (`releases/<name>`, a directory there), read without following anything. */
export async function currentRelease(paths: SitePaths): Promise<string | undefined> {
  try {
    const target = await inTree(paths.root, [], (site) => site.readlink('current'));
    const name = target?.startsWith('releases/') ? target.slice('releases/'.length) : undefined;
    if (name === undefined || !RELEASE_NAME_PATTERN.test(name)) return undefined;
    const release = await inTree(paths.root, ['releases'], (releases) => releases.lstat(name));
    return release?.isDirectory() ? name : undefined;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || error instanceof UnsafePathError) return undefined;
    throw error;
  }
}

/** `current` -> releases/<release>: a new symlink (`owner`'s) renamed over it through the site dir's descriptor, then read back. */
export async function pointCurrent(paths: SitePaths, owner: Ownership, release: string): Promise<void> {
  await inTree(paths.root, [], (site) => site.symlinkAtomic('current', `releases/${checkReleaseName(release)}`, owner));
  const now = await currentRelease(paths);
  if (now !== release) throw new Error(`current does not resolve to releases/${release} after the switch`);
}

/**
 * The first release of a site (provision): WordPress core only, built like every release
 * (stageRelease, commitRelease), then `current` flips to it atomically. An existing, resolving
 * `current` is kept (idempotent re-provision).
 */
export async function ensureFirstRelease(options: {
  readonly source: string;
  readonly coreCache: string;
  readonly paths: SitePaths;
  readonly owner: Ownership;
  readonly name: string;
  readonly cachePlugin: string;
  readonly stagingPlugin?: string | undefined;
}): Promise<{ release: string; created: boolean; linked: boolean }> {
  const { paths } = options;
  const existing = await currentRelease(paths);
  if (existing !== undefined) {
    // A `current` made before nginx checked symlink owners is root's: nginx would refuse it.
    if ((await inTree(paths.root, [], (site) => site.lstat('current')))?.uid !== options.owner.uid) await pointCurrent(paths, options.owner, existing);
    return { release: existing, created: false, linked: false };
  }
  const built = await commitRelease(paths, await stageRelease({ ...options, wantedVersion: '' }));
  await pointCurrent(paths, options.owner, built.name);
  return { release: built.name, created: true, linked: built.linkedCore };
}
