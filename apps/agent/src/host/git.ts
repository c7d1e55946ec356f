import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gitSourceProblem, type GitPolicy } from '@pressluft/domain';
import { StepError } from './errors.js';
import { BASE_ENV, exec, tail } from './exec.js';
import { isErrno } from './safe-fs.js';
import { killTree } from './process-tree.js';

/** Validates spec.code.git with the fleet's rule (libs/domain gitSourceProblem); a StepError when refused. */
export function checkGitSource(url: string, ref: string, policy: GitPolicy): { url: string; ref: string } {
  const problem = gitSourceProblem(url, ref, policy);
  if (problem) throw new StepError('validate', 'InvalidGitSource', problem.message);
  return { url, ref };
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

/**
 * Clones url@ref into a fresh root-only dir under `workRoot`; the caller removes it. Returns the
 * wp-content source dir. The clone is watched while git runs (every 200 ms: the clone dir's
 * size and file count, the pack as it arrives and then the checkout, and the time taken) and
 * measured once more at the end. Past a limit git and its transport helpers are killed, the
 * dir removed, and the deploy fails: GitSourceTooLarge, or GitFetchFailed for the time.
 */
export async function fetchGit(url: string, ref: string, workRoot: string, policy: GitPolicy, limits: GitLimits = DEFAULT_GIT_LIMITS): Promise<{ dir: string; content: string }> {
  await mkdir(workRoot, { recursive: true, mode: 0o700 });
  const dir = join(workRoot, `clone-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  const checkout = join(dir, 'src');
  const what = `git clone of ${url} at ${ref || 'the default branch'}`;
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
  let result;
  try {
    result = await exec(gitCloneArgv(url, ref, checkout, policy), {
      env: gitEnv(dir),
      cwd: dir,
      // A backstop only: the watch above ends a clone at its time limit, helpers included.
      timeoutMs: limits.timeoutMs + 10_000,
      onSpawn: (pid) => {
        git = pid;
        return Promise.resolve();
      },
    });
  } finally {
    running = false;
    await watch.catch(() => undefined);
  }
  if (stopped === undefined && result.code === 0) {
    const over = tooLarge(await treeUsage(dir, limits), limits);
    if (over !== undefined) stopped = tooLargeError(over);
  }
  if (stopped !== undefined || result.code !== 0) {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    throw stopped ?? new GitFetchError(`${what} failed: ${tail(result.stderr || result.stdout, 4)}`);
  }
  // A repository with wp-content/ at its top is a site repository; otherwise the repository is wp-content.
  const nested = join(checkout, 'wp-content');
  const content = (await lstat(nested).then((s) => s.isDirectory()).catch(() => false)) ? nested : checkout;
  return { dir, content };
}
