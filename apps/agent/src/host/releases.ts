import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lchown, link, lstat, mkdir, readdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureCoreCache, linkRelease, requireTheme } from './core-cache.js';
import { StepError } from './errors.js';
import { BASE_ENV, exec, tail } from './exec.js';
import { isErrno, symlinkAtomic, type Ownership } from './fs-util.js';
import { RELEASE_NAME_PATTERN, releaseName, type SitePaths } from './naming.js';
import { currentRelease } from './wordpress.js';

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
  const entries = await readdir(paths.releases, { withFileTypes: true }).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  });
  return sortReleases(entries.filter((e) => e.isDirectory()).map((e) => e.name));
}

// --- WordPress version ---------------------------------------------------------------------

/** `$wp_version` from a tree's wp-includes/version.php. */
export async function coreVersion(tree: string): Promise<string> {
  const text = await readFile(join(tree, 'wp-includes', 'version.php'), 'utf8');
  const match = /\$wp_version\s*=\s*'([^']+)'/.exec(text);
  if (!match?.[1]) throw new Error(`${tree}/wp-includes/version.php holds no $wp_version`);
  return match[1];
}

/** Does an available core version satisfy a requested one? '' takes any; '6.1' takes 6.1.x; '6.1.9' only itself. */
export function versionSatisfies(requested: string, available: string): boolean {
  if (requested === '' || requested === 'latest') return true;
  return available === requested || available.startsWith(`${requested}.`);
}

// --- git -------------------------------------------------------------------------------------

export interface GitPolicy {
  /** Also accept file:// URLs and absolute paths (tests, single-server setups). */
  readonly allowLocal: boolean;
}

const REF_PATTERN = /^[A-Za-z0-9._][A-Za-z0-9._/-]{0,199}$/;

function badGit(message: string): StepError {
  return new StepError('validate', 'InvalidGitSource', message);
}

/** Validates spec.code.git: https:// (no credentials in the URL, no ssh), file:// or an absolute path when allowed; a plain ref. */
export function checkGitSource(url: string, ref: string, policy: GitPolicy): { url: string; ref: string } {
  // '' is the repository's default branch.
  if ((ref !== '' && !REF_PATTERN.test(ref)) || ref.includes('..') || ref.endsWith('/') || ref.endsWith('.lock') || ref.includes('//')) {
    throw badGit(`git ref ${JSON.stringify(ref)} is not a plain branch or tag name`);
  }
  // eslint-disable-next-line no-control-regex
  if (url.length === 0 || url.length > 2048 || /[\s\u0000-\u001f\u007f]/.test(url)) throw badGit('git url is empty, too long, or holds whitespace');
  if (url.startsWith('https://')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badGit(`git url ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.username !== '' || parsed.password !== '') throw badGit('git url must not hold credentials');
    if (parsed.hostname === '') throw badGit('git url has no host');
    return { url, ref };
  }
  if (policy.allowLocal && (url.startsWith('file:///') || (url.startsWith('/') && !url.includes('/../') && !url.endsWith('/..')))) return { url, ref };
  throw badGit(`git url ${JSON.stringify(url.slice(0, 200))} must be https://${policy.allowLocal ? ', file:// or an absolute path' : ''}`);
}

/** `git clone` of one ref, shallow, with every protocol but https (and file, when allowed) refused by git itself. */
export function gitCloneArgv(url: string, ref: string, dest: string, policy: GitPolicy): string[] {
  return [
    '/usr/bin/git',
    '-c',
    'protocol.allow=never',
    '-c',
    'protocol.https.allow=always',
    ...(policy.allowLocal ? ['-c', 'protocol.file.allow=always'] : []),
    '-c',
    'core.symlinks=true',
    'clone',
    '--quiet',
    '--depth',
    '1',
    '--single-branch',
    '--no-tags',
    ...(ref === '' ? [] : ['--branch', ref]),
    '--',
    url,
    dest,
  ];
}

export function gitEnv(home: string): NodeJS.ProcessEnv {
  return { ...BASE_ENV, HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_ASKPASS: '/bin/false', GIT_SSH_COMMAND: '/bin/false' };
}

export class GitFetchError extends Error {
  override readonly name = 'GitFetchError';
}

/** Clones url@ref into a fresh root-only dir under `workRoot`; the caller removes it. Returns the wp-content source dir. */
export async function fetchGit(url: string, ref: string, workRoot: string, policy: GitPolicy): Promise<{ dir: string; content: string }> {
  await mkdir(workRoot, { recursive: true, mode: 0o700 });
  const dir = join(workRoot, `clone-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  const checkout = join(dir, 'src');
  const result = await exec(gitCloneArgv(url, ref, checkout, policy), { env: gitEnv(dir), cwd: dir, timeoutMs: 300_000 });
  if (result.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new GitFetchError(`git clone of ${url} at ${ref} failed: ${tail(result.stderr || result.stdout, 4)}`);
  }
  // A repository with wp-content/ at its top is a site repository; otherwise the repository is wp-content.
  const nested = join(checkout, 'wp-content');
  const content = (await lstat(nested).then((s) => s.isDirectory()).catch(() => false)) ? nested : checkout;
  return { dir, content };
}

// --- building a release ------------------------------------------------------------------------

async function sameContent(a: string, b: string): Promise<boolean> {
  const digest = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      createReadStream(path)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', () => resolve(hash.digest('hex')))
        .on('error', reject);
    });
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  return x === y;
}

/**
 * Copies the checkout's files over the release's wp-content: files root-owned 0644 (the site
 * cannot change its code; a new release replaces it), directories the site's. A file identical
 * to the previous release's (root-owned, same size and content) is hard-linked instead. The
 * checkout's .git and uploads/ (shared data) are skipped; symlinks are refused (they could point
 * nginx at another site's files).
 */
export async function overlayContent(source: string, wpContent: string, owner: Ownership, previousWpContent: string | undefined): Promise<{ copied: number; linked: number }> {
  const counts = { copied: 0, linked: 0 };
  const walk = async (from: string, to: string, prev: string | undefined, rel: string): Promise<void> => {
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
        // Only real directories of the previous release are looked into (lstat: a symlink the site
        // user put there is not followed).
        const prevDir = prev ? join(prev, entry.name) : undefined;
        const prevIsDir = prevDir !== undefined && (await lstat(prevDir).then((st) => st.isDirectory()).catch(() => false));
        await walk(src, dest, prevIsDir ? prevDir : undefined, relPath);
      } else if (entry.isFile()) {
        if (existing) await rm(dest, { recursive: true, force: true });
        const before = prev ? await lstat(join(prev, entry.name)).catch(() => undefined) : undefined;
        const size = (await lstat(src)).size;
        const reuse = prev !== undefined && before?.isFile() === true && before.uid === 0 && before.size === size && (await sameContent(src, join(prev, entry.name)));
        if (reuse && (await link(join(prev, entry.name), dest).then(() => true, () => false))) {
          counts.linked++;
        } else {
          await copyFile(src, dest);
          await chmod(dest, 0o644);
          counts.copied++;
        }
      }
    }
  };
  const prevIsDir = previousWpContent !== undefined && (await lstat(previousWpContent).then((st) => st.isDirectory()).catch(() => false));
  await walk(source, wpContent, prevIsDir ? previousWpContent : undefined, '');
  return counts;
}

export interface BuiltRelease {
  readonly name: string;
  readonly dir: string;
  readonly coreVersion: string;
  readonly linkedCore: boolean;
  readonly content?: { readonly copied: number; readonly linked: number };
}

/** A release still under its staging name: complete but for its dependencies; nothing points at it. */
export interface StagedRelease extends Omit<BuiltRelease, 'dir'> {
  readonly staging: string;
  /** Where commitRelease puts it: releases/<name>. */
  readonly target: string;
}

/**
 * Builds releases/<name>/ from scratch under a staging name: WordPress core from the node's
 * pristine copy (hard links; a copy as the site user across filesystems), the git checkout's
 * wp-content over it, wp-config.php and uploads linked to shared/. The caller installs the
 * dependencies in it, then renames it into place (commitRelease) or removes it (discardRelease),
 * and health-checks it before anything points at it.
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
}): Promise<StagedRelease> {
  const { paths, owner, name } = options;
  checkReleaseName(name);
  const cache = await ensureCoreCache(options.source, options.coreCache);
  const version = await coreVersion(cache);
  if (!versionSatisfies(options.wantedVersion, version)) {
    throw new StepError('release', 'WordPressVersionUnavailable', `WordPress ${options.wantedVersion} is not available on this node (it has ${version} from ${options.source})`);
  }
  for (const entry of await readdir(paths.releases)) {
    if (entry.startsWith('.staging-')) await rm(join(paths.releases, entry), { recursive: true, force: true });
  }
  const staging = join(paths.releases, `.staging-${name}-${randomBytes(6).toString('hex')}`);
  try {
    const linked = await linkRelease(cache, staging, owner);
    if (!linked) {
      const copy = await exec(['/bin/cp', '-R', '-L', '--', options.source, staging], { uid: owner.uid, gid: owner.gid, timeoutMs: 300_000 });
      if (copy.code !== 0) throw new Error(`copying WordPress core from ${options.source} failed: ${tail(copy.stderr)}`);
      await requireTheme(staging, options.source);
    }
    let content: BuiltRelease['content'];
    if (options.content !== undefined) {
      const previousWpContent = options.previous ? join(paths.releases, options.previous, 'wp-content') : undefined;
      content = await overlayContent(options.content, join(staging, 'wp-content'), owner, previousWpContent);
    }
    const linkTo = async (target: string, path: string) => {
      await rm(path, { recursive: true, force: true });
      await symlink(target, path);
      await lchown(path, owner.uid, owner.gid);
    };
    await linkTo('../../shared/wp-config.php', join(staging, 'wp-config.php'));
    await linkTo('../../../shared/uploads', join(staging, 'wp-content', 'uploads'));
    return { name, staging, target: join(paths.releases, name), coreVersion: version, linkedCore: linked, ...(content ? { content } : {}) };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Renames a staged release into place (releases/<name>); a failed rename removes it. */
export async function commitRelease(staged: StagedRelease): Promise<BuiltRelease> {
  try {
    await rename(staged.staging, staged.target);
  } catch (error) {
    await discardRelease(staged);
    throw error;
  }
  return { name: staged.name, dir: staged.target, coreVersion: staged.coreVersion, linkedCore: staged.linkedCore, ...(staged.content ? { content: staged.content } : {}) };
}

export async function discardRelease(staged: StagedRelease): Promise<void> {
  await rm(staged.staging, { recursive: true, force: true });
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
}): Promise<{ release: string; created: boolean; linked: boolean }> {
  const { paths } = options;
  const existing = await currentRelease(paths);
  if (existing !== undefined) {
    // A `current` made before nginx checked symlink owners is root's: nginx would refuse it.
    if ((await lstat(paths.current)).uid !== options.owner.uid) await symlinkAtomic(join('releases', existing), paths.current, options.owner);
    return { release: existing, created: false, linked: false };
  }
  const built = await commitRelease(await stageRelease({ ...options, wantedVersion: '' }));
  await symlinkAtomic(join('releases', built.name), paths.current, options.owner);
  const now = await currentRelease(paths);
  if (now !== built.name) throw new Error(`current does not resolve to releases/${built.name} after the switch`);
  return { release: built.name, created: true, linked: built.linkedCore };
}
