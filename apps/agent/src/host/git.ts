import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gitSourceProblem, type GitPolicy } from '@pressluft/domain';
import { StepError } from './errors.js';
import { BASE_ENV, exec, tail } from './exec.js';
import { gitAccess, type GitCredentials } from './git-access.js';
import { isErrno } from './safe-fs.js';
import { killTree } from './process-tree.js';

/** Validates spec.code.git with the fleet's rule (libs/domain gitSourceProblem); a StepError when refused. */
export function checkGitSource(url: string, ref: string, policy: GitPolicy): { url: string; ref: string } {
  const problem = gitSourceProblem(url, ref, policy);
  if (problem) throw new StepError('validate', 'InvalidGitSource', problem.message);
  return { url, ref };
}

/** The node's rule for git sources (gitSourceProblem's) and the CA bundle git trusts besides the system's. */
export interface GitFetchPolicy extends GitPolicy {
  readonly caFile?: string;
}

/** A full commit id: fetched by id (a promotion deploys exactly it). */
export const COMMIT_ID = /^[0-9a-f]{40}$/;

/**
 * git with every protocol but https (and file, when allowed, and what `access` adds: ssh) refused
 * by git itself, no hooks, and the checkout's links kept as links (a release refuses them).
 */
export function gitArgv(policy: GitFetchPolicy, access: readonly string[], args: readonly string[]): string[] {
  return [
    '/usr/bin/git',
    '-c',
    'protocol.allow=never',
    '-c',
    'protocol.https.allow=always',
    ...(policy.allowLocal ? ['-c', 'protocol.file.allow=always'] : []),
    ...(policy.caFile ? ['-c', `http.sslCAInfo=${policy.caFile}`] : []),
    '-c',
    'core.sshCommand=/bin/false',
    ...access,
    '-c',
    'core.hooksPath=/dev/null',
    '-c',
    'core.symlinks=true',
    ...args,
  ];
}

/**
 * The git commands that put url@ref into `checkout`: a fresh repository (no templates), one
 * shallow fetch of the ref ('' the default branch; a commit id by id), a detached checkout. The
 * fallback (`full`), for a server that refuses a commit id it does not advertise: every branch
 * and tag, then the commit checked out.
 */
export function gitFetchSteps(url: string, ref: string, full = false): string[][] {
  const fetch = full
    ? ['fetch', '--quiet', '--no-tags', '--', url, '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*']
    : ['fetch', '--quiet', '--depth', '1', '--no-tags', '--', url, ref === '' ? 'HEAD' : ref];
  return [
    ['init', '--quiet', '--template=', '.'],
    fetch,
    ['checkout', '--quiet', '--detach', full ? ref : 'FETCH_HEAD', '--'],
  ];
}

export function gitEnv(home: string): NodeJS.ProcessEnv {
  return { ...BASE_ENV, HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_ASKPASS: '/bin/false' };
}

export class GitFetchError extends Error {
  override readonly name = 'GitFetchError';
}

/** What one clone may take: a node setting (a repository is the site's, so hostile). */
export interface GitLimits {
  /** Bytes under the clone dir (the received pack, the objects, the checkout). */
  readonly maxBytes: number;
  /** Files, directories and links under the clone dir. */
  readonly maxFiles: number;
  /** The clone is killed after this long. */
  readonly timeoutMs: number;
}

export const DEFAULT_GIT_LIMITS: GitLimits = { maxBytes: 512 * 1024 * 1024, maxFiles: 100_000, timeoutMs: 300_000 };

/** How often a running clone's dir is measured. */
const WATCH_EVERY_MS = 200;

/** What a tree holds (lstat: links are counted, never followed); the walk stops once past a limit. */
async function treeUsage(dir: string, limits: Pick<GitLimits, 'maxBytes' | 'maxFiles'>): Promise<{ bytes: number; files: number }> {
  const usage = { bytes: 0, files: 0 };
  const over = () => usage.bytes > limits.maxBytes || usage.files > limits.maxFiles;
  const walk = async (path: string): Promise<void> => {
    // A running git renames and removes its temporary files: what vanished meanwhile is skipped.
    const entries = await readdir(path, { withFileTypes: true }).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT', 'ENOTDIR')) return [];
      throw error;
    });
    for (const entry of entries) {
      if (over()) return;
      usage.files += 1;
      const child = join(path, entry.name);
      if (entry.isDirectory()) await walk(child);
      else usage.bytes += (await lstat(child).catch(() => undefined))?.size ?? 0;
    }
  };
  await walk(dir);
  return usage;
}

function tooLarge(usage: { bytes: number; files: number }, limits: GitLimits): string | undefined {
  if (usage.bytes > limits.maxBytes) return `more than ${limits.maxBytes} bytes`;
  if (usage.files > limits.maxFiles) return `more than ${limits.maxFiles} files`;
  return undefined;
}

/** What fetchGit fetches: spec.code.git and how to reach it. */
export interface GitFetchSource extends GitCredentials {
  readonly url: string;
  readonly ref: string;
}

/**
 * Fetches url@ref into a fresh root-only dir under `workRoot`; the caller removes it. Returns the
 * wp-content source dir and the commit checked out (read from the checkout before anyone else
 * sees it). The fetch is watched while git runs (every 200 ms: the dir's size and file count,
 * the pack as it arrives and then the checkout, and the time taken) and measured once more at
 * the end. Past a limit git and its transport helpers are killed, the dir removed, and the
 * deploy fails: GitSourceTooLarge, or GitFetchFailed for the time. The helper files of private
 * repositories (known hosts, the token's askpass) are removed before it returns.
 */
export async function fetchGit(source: GitFetchSource, workRoot: string, policy: GitFetchPolicy, limits: GitLimits = DEFAULT_GIT_LIMITS): Promise<{ dir: string; content: string; commit: string }> {
  const { url, ref } = source;
  await mkdir(workRoot, { recursive: true, mode: 0o700 });
  const dir = join(workRoot, `clone-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  const checkout = join(dir, 'src');
  await mkdir(checkout, { mode: 0o700 });
  const what = `git fetch of ${url} at ${ref || 'the default branch'}`;
  const tooLargeError = (over: string) => new StepError('fetch', 'GitSourceTooLarge', `${what} stopped: the repository holds ${over} (this node's limit)`);
  const started = Date.now();
  let git: number | undefined;
  let running = true;
  let stopped: StepError | GitFetchError | undefined;
  const watch = (async () => {
    while (running && stopped === undefined) {
      await new Promise((resolve) => setTimeout(resolve, WATCH_EVERY_MS));
      const over = tooLarge(await treeUsage(dir, limits), limits);
      if (over !== undefined) stopped = tooLargeError(over);
      else if (running && Date.now() - started > limits.timeoutMs) stopped = new GitFetchError(`${what} did not finish within ${Math.round(limits.timeoutMs / 1000)} s`);
      if (stopped !== undefined && running && git !== undefined) await killTree(git);
    }
  })();
  let failed: Error | undefined;
  let commit = '';
  try {
    const access = await gitAccess(url, source, join(dir, 'access'));
    try {
      const run = async (steps: readonly string[][]): Promise<string | undefined> => {
        for (const args of steps) {
          if (stopped !== undefined) return undefined;
          const result = await exec(gitArgv(policy, access.config, args), {
            env: { ...gitEnv(dir), ...access.env },
            cwd: checkout,
            // A backstop only: the watch above ends a fetch at its time limit, helpers included.
            timeoutMs: limits.timeoutMs + 10_000,
            onSpawn: (pid) => {
              git = pid;
              return Promise.resolve();
            },
          });
          if (result.code !== 0) return result.stderr || result.stdout;
        }
        return undefined;
      };
      let error = await run(gitFetchSteps(url, ref));
      // A server may refuse a commit it does not advertise (protocol v0 without allowReachableSHA1InWant).
      if (error !== undefined && COMMIT_ID.test(ref) && access.refused(error) === undefined && stopped === undefined) {
        await rm(checkout, { recursive: true, force: true });
        await mkdir(checkout, { mode: 0o700 });
        error = await run(gitFetchSteps(url, ref, true));
      }
      const missing = error !== undefined && COMMIT_ID.test(ref) && /reference is not a tree|not our ref|unadvertised object/.test(error);
      if (error !== undefined) failed = access.refused(error) ?? new GitFetchError(`${what} failed: ${missing ? `the repository has no commit ${ref}` : tail(error, 4)}`);
      else if (stopped === undefined) commit = await headCommit(checkout, policy);
    } finally {
      await access.cleanup();
    }
  } catch (error) {
    failed = error instanceof Error ? error : new Error(String(error));
  } finally {
    running = false;
    await watch.catch(() => undefined);
  }
  if (stopped === undefined && failed === undefined) {
    const over = tooLarge(await treeUsage(dir, limits), limits);
    if (over !== undefined) stopped = tooLargeError(over);
    else if (COMMIT_ID.test(ref) && commit !== ref) failed = new GitFetchError(`${what} checked out ${commit}, not the commit asked for`);
  }
  const error = stopped ?? failed;
  if (error !== undefined) {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }
  // A repository with wp-content/ at its top is a site repository; otherwise the repository is wp-content.
  const nested = join(checkout, 'wp-content');
  const content = (await lstat(nested).then((s) => s.isDirectory()).catch(() => false)) ? nested : checkout;
  return { dir, content, commit };
}

/** The commit the checkout is at (its HEAD: 40 hex, or the fetch failed). */
async function headCommit(checkout: string, policy: GitFetchPolicy): Promise<string> {
  const result = await exec(gitArgv(policy, [], ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']), { env: gitEnv(checkout), cwd: checkout, timeoutMs: 30_000 });
  const commit = result.stdout.trim();
  if (result.code !== 0 || !COMMIT_ID.test(commit)) throw new GitFetchError(`the checkout has no commit: ${tail(result.stderr, 2)}`);
  return commit;
}
