import { spawn } from 'node:child_process';
import { CappedBuffer, DEFAULT_CAPTURE_BYTES } from './capped.js';

export interface ExecOptions {
  /** Written to the child's stdin, then closed: the only way secrets reach a child. */
  readonly input?: string;
  /** Run as this user/group (supplementary groups are dropped). */
  readonly uid?: number;
  readonly gid?: number;
  /** Defaults to a minimal PATH and LANG=C.UTF-8, so nothing of the agent's environment leaks. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * Bytes kept of each of stdout and stderr (default 1 MiB): the tail, after a line saying how
   * much was dropped. The child's output is read to the end either way, so it never blocks.
   */
  readonly maxOutputBytes?: number;
  /** SIGKILL after this long (default 120 s). */
  readonly timeoutMs?: number;
  /**
   * Runs right after spawn with the child's PID (to move it into a cgroup before it gets far).
   * If it fails, the child is killed and exec rejects with its error.
   */
  readonly onSpawn?: (pid: number) => Promise<void>;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How long output is still read after the child ended (from descendants that share its pipes). */
const PIPE_GRACE_MS = 1000;

export const BASE_ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** Runs an argv array (never a shell string) to completion. Resolves whatever the exit code; rejects only if it cannot start. */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [command, ...args] = argv;
  if (!command) return Promise.reject(new Error('exec: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? BASE_ENV,
      uid: options.uid,
      gid: options.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const limit = options.maxOutputBytes ?? DEFAULT_CAPTURE_BYTES;
    const stdout = new CappedBuffer(limit, 'tail');
    const stderr = new CappedBuffer(limit, 'tail');
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    let spawnHookFailed: Error | undefined;
    if (options.onSpawn && child.pid !== undefined) {
      options.onSpawn(child.pid).catch((error: unknown) => {
        spawnHookFailed = error instanceof Error ? error : new Error(String(error));
        child.kill('SIGKILL');
      });
    }
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // A descendant that inherited the pipes (a daemon the command started) may hold them open
    // for ever: shortly after the child itself ends, its output is taken as it is.
    let linger: NodeJS.Timeout | undefined;
    child.once('exit', () => {
      linger = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(linger);
      if (spawnHookFailed) reject(spawnHookFailed);
      else resolve({ code, signal, stdout: stdout.text(), stderr: stderr.text() });
    });
    // A child that exits before reading its input must not crash the agent with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The last lines of a command's output, for error messages. */
export function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Like exec, but a non-zero exit rejects with the argv (never secret) and the output's tail. */
export async function execOk(argv: readonly string[], options: ExecOptions = {}): Promise<string> {
  const result = await exec(argv, options);
  if (result.code !== 0) {
    const why = result.signal ? `was killed by ${result.signal}` : `exited ${String(result.code)}`;
    throw new Error(`${argv.join(' ')} ${why}: ${tail(result.stderr || result.stdout)}`);
  }
  return result.stdout;
}
