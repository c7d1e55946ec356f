// The host integration specs' shared setup (apps/agent/test: outside src/, so the build leaves
// it out): a node's settings on the harness's nginx and MariaDB, a temp root, the
// test's own cgroup parent dirs, and a reporter that records what the steps said.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HARNESS_DIR_PREFIX, httpRequest, phpFpmBinary, repoRoot, type HttpResult, type SharedServices } from '@pressluft/testing';
import { parseProcCgroup } from '../src/host/cgroup.js';
import type { HostSettings } from '../src/host/settings.js';
import type { StepReporter } from '../src/host/site-host.js';

export interface HostHarness {
  /** World-traversable temp dir (site users and www-data reach into it). */
  readonly root: string;
  readonly settings: HostSettings;
  /** The parents of the site cgroups this test creates (memory, cpu). */
  readonly cgroupParents: readonly string[];
  /** Removes the cgroup dirs below this test's prefix, then the root. */
  cleanup(): void;
}

/**
 * Settings of a node on the harness's nginx and MariaDB, rooted in a fresh temp dir, with site
 * cgroups below this test process's own cgroup (cgroup v1, as on the project's machines), so the
 * sites' PHP-FPM processes stay inside the accounting of whatever runs the tests.
 */
export function hostHarness(services: SharedServices, cgroupPrefix: string, extra: Partial<HostSettings> = {}): HostHarness {
  const root = mkdtempSync(join(tmpdir(), HARNESS_DIR_PREFIX));
  chmodSync(root, 0o755);
  const nginxPrefix = dirname(services.nginx.sitesDir);
  const settings: HostSettings = {
    sitesRoot: join(root, 'sites'),
    stateDir: join(root, 'state'),
    wordpressSource: '/usr/share/wordpress',
    nginx: {
      command: ['/usr/sbin/nginx', '-p', nginxPrefix, '-c', join(nginxPrefix, 'nginx.conf'), '-e', join(nginxPrefix, 'logs', 'error.log')],
      sitesDir: services.nginx.sitesDir,
      listen: `127.0.0.1:${services.nginx.port}`,
      tlsListen: `127.0.0.1:${services.nginx.tlsPort}`,
      user: 'www-data',
    },
    phpFpm: { binary: phpFpmBinary() },
    mariadb: { command: ['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`], socket: services.mariadb.socket },
    wpCli: ['/usr/bin/php', join(repoRoot(__dirname), 'tools', 'wp-cli', 'wp')],
    composer: ['/usr/bin/composer'],
    cgroup: { root: '/sys/fs/cgroup', prefix: cgroupPrefix, relativeTo: 'self' },
    ...extra,
  };
  const self = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  const cgroupParents = [join('/sys/fs/cgroup/memory', self.get('memory') ?? '/', cgroupPrefix), join('/sys/fs/cgroup/cpu', self.get('cpu') ?? '/', cgroupPrefix)];
  return {
    root,
    settings,
    cgroupParents,
    cleanup() {
      for (const dir of cgroupParents) {
        if (!existsSync(dir)) continue;
        for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) rmdirSync(join(dir, entry.name));
        rmdirSync(dir);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Records the steps in order, the log lines, every progress report, and when each step began. */
export class RecordingReporter implements StepReporter {
  readonly steps: string[] = [];
  readonly lines: string[] = [];
  readonly progressLines: string[] = [];
  /** When each step began, and when the switch (symlink + PHP-FPM reload) was done. */
  readonly at: Record<string, number> = {};
  progress(step: string, percent: number): Promise<void> {
    if (this.steps[this.steps.length - 1] !== step) this.steps.push(step);
    this.progressLines.push(`progress ${step} ${percent}`);
    this.at[step] ??= performance.now();
    return Promise.resolve();
  }
  log(line: string): Promise<void> {
    this.lines.push(line);
    if (line.startsWith('current -> ')) this.at['switched'] = performance.now();
    return Promise.resolve();
  }
}

/** A reporter that drops everything (cleanup). */
export const QUIET: StepReporter = { progress: () => Promise.resolve(), log: () => Promise.resolve() };

/** A request to a site through the harness's nginx by its Host header (a form body when one is given; no keep-alive). */
export function siteRequest(
  services: SharedServices,
  host: string,
  path = '/',
  options: { method?: string; body?: string; cookie?: string } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {
    ...(options.cookie ? { cookie: options.cookie } : {}),
    ...(options.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
  };
  return httpRequest(`http://127.0.0.1:${services.nginx.port}${path}`, { host, headers, timeoutMs: 20_000, ...(options.method ? { method: options.method } : {}), ...(options.body !== undefined ? { body: options.body } : {}) });
}

/** One answer of a load loop: the status (or "error: <message>") and when the request was in flight. */
export interface LoadAnswer {
  readonly outcome: string;
  readonly started: number;
  readonly ended: number;
}

/** `clients` loops of GET / on a site until stop(); every answer, in the order they came. */
export function siteLoad(services: SharedServices, host: string, clients: number): { stop(): Promise<LoadAnswer[]> } {
  let running = true;
  const answers: LoadAnswer[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const started = performance.now();
      const outcome = await siteRequest(services, host).then(
        (answer) => String(answer.status),
        (error: unknown) => `error: ${error instanceof Error ? error.message : String(error)}`,
      );
      answers.push({ outcome, started, ended: performance.now() });
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}
