import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

export interface SpawnOptions {
  readonly logFile: string;
  readonly cwd?: string;
  readonly runAs?: RunAs;
  readonly env?: NodeJS.ProcessEnv;
}

/** Every process the harness started and has not yet seen exit; killed if the test process dies. */
const live = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** A child process started from an argv array (never a shell string), stopped by its PID. */
export class ManagedProcess {
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(pid);
        this.exitCode = code ?? (signal ? null : 0);
        resolve(this.exitCode);
      });
    });
  }

  static start(name: string, argv: readonly string[], options: SpawnOptions): ManagedProcess {
    const [command, ...args] = argv;
    if (!command) throw new Error(`${name}: empty argv`);
    installExitHook();
    const log = openSync(options.logFile, 'a');
    try {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
        stdio: ['ignore', log, log],
        uid: options.runAs?.uid,
        gid: options.runAs?.gid,
      });
      if (child.pid === undefined) throw new Error(`${name}: failed to start ${command}`);
      live.add(child.pid);
      return new ManagedProcess(name, child, child.pid, options.logFile);
    } finally {
      closeSync(log);
    }
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs. Idempotent. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // exited between the check and the signal
    }
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    if ((await Promise.race([this.exited, timer])) === 'timeout' && this.running) {
      process.kill(this.pid, 'SIGKILL');
      await this.exited;
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }

  /** Waits until `ready` holds; fails early with the log tail if the process exits first. */
  async waitUntil(ready: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited with ${String(this.exitCode)} before it was ready:\n${this.logTail()}`);
      if (await ready().catch(() => false)) return;
      await sleep(50);
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.logTail()}`);
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Runs a command to completion from an argv array; rejects with its output on failure. */
export async function run(argv: readonly string[], options: { runAs?: RunAs; cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const [command, ...args] = argv;
  if (!command) throw new Error('empty argv');
  if (options.input !== undefined) return runWithInput(command, args, options);
  try {
    const { stdout } = await execFileAsync(command, args, {
      cwd: options.cwd,
      env: options.env,
      uid: options.runAs?.uid,
      gid: options.runAs?.gid,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${argv.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

function runWithInput(command: string, args: string[], options: { runAs?: RunAs; cwd?: string; input?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, uid: options.runAs?.uid, gid: options.runAs?.gid, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited ${String(code)}: ${stderr}`))));
    // A child that exits before reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True while a process with this PID exists (zombies of ours are reaped by Node). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
