import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlaneProcesses, EngineScenario, nodeManifest, type ControlPlaneReplica, type TestAgent } from '@pressluft/e2e-harness';
import { repoRoot } from '@pressluft/testing';
import { inject } from 'vitest';

const REPO = repoRoot(__dirname);

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A pressluftctl process still running (logs -f): its output so far, stopped by its PID. */
export interface RunningCli {
  readonly pid: number;
  output(): string;
  errors(): string;
  readonly exited: Promise<CliResult>;
  stop(): Promise<CliResult>;
}

/**
 * The compiled pressluftctl (ControlPlaneProcesses.build() compiles tsconfig.build.json, which has
 * apps/cli) against a real control plane on the run's PostgreSQL and NATS, with a test agent as
 * node `<label>-node` (labels differ per file: the run's NATS is shared); each run gets argv as an array and the config in a directory of its own.
 */
export class CliWorld {
  readonly dir = mkdtempSync(join(tmpdir(), 'pressluftctl-int-'));

  private constructor(
    readonly processes: ControlPlaneProcesses,
    readonly scenario: EngineScenario,
    readonly replica: ControlPlaneReplica,
    readonly agent: TestAgent,
  ) {}

  static async start(label: string): Promise<CliWorld> {
    const { postgres, nats } = inject('services');
    const processes = await ControlPlaneProcesses.build();
    const scenario = await EngineScenario.create(processes, postgres.url, nats.url, label);
    try {
      const replica = await scenario.spawn(label);
      await scenario.create(replica, 'nodes', nodeManifest(`${label}-node`));
      const agent = await scenario.startAgent(`${label}-node`);
      await scenario.waitNodeReady(replica, `${label}-node`);
      return new CliWorld(processes, scenario, replica, agent);
    } catch (error) {
      await scenario.cleanup();
      await processes.stop();
      throw error;
    }
  }

  get node(): string {
    return this.agent.node;
  }

  get server(): string {
    return this.replica.url;
  }

  get config(): string {
    return join(this.dir, 'config');
  }

  /** A file holding `text` (mode 0600), e.g. a token for `login --token-file`. */
  file(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  }

  /** Logs in as admin into the default config (through the CLI itself). */
  async login(): Promise<void> {
    const result = await this.run(['login', '--server', this.server, '--token-file', this.file('admin.token', `${this.processes.adminToken}\n`)]);
    if (result.code !== 0) throw new Error(`login failed: ${result.stderr}`);
  }

  run(args: readonly string[], options: { input?: string; config?: string } = {}): Promise<CliResult> {
    return this.start(args, options).exited;
  }

  start(args: readonly string[], options: { input?: string; config?: string } = {}): RunningCli {
    const main = join(this.processes.distDir, 'apps/cli/src/main.js');
    const child = spawn(process.execPath, [main, ...args], {
      cwd: this.dir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: this.dir, LANG: 'C.UTF-8', NODE_PATH: join(REPO, 'node_modules'), PRESSLUFT_CONFIG: options.config ?? this.config },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.end(options.input ?? '');
    const exited = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    return {
      pid: child.pid ?? 0,
      output: () => stdout,
      errors: () => stderr,
      exited,
      stop: () => {
        if (child.exitCode === null) child.kill('SIGTERM');
        return exited;
      },
    };
  }

  async stop(): Promise<void> {
    await this.scenario.cleanup();
    await this.processes.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
