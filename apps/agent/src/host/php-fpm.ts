import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { lstat, readFile, rename, rm } from 'node:fs/promises';
import { describeExit } from '@pressluft/domain';
import { BASE_ENV, exec, tail } from './exec.js';
import { jailArgv, type JailCommand } from './jail.js';
import { childrenOf, orphans, processesNamed, processState, runningByPidFile, stopProcesses } from './process-tree.js';
import { readIfExists, writeFileAtomic } from './safe-fs.js';
import type { SitePaths, SitePlan } from './naming.js';
import { DISABLED_FUNCTIONS } from './php-hardening.js';
import { fpmValue, renderTemplate } from './template.js';


export interface FpmTemplates {
  readonly global: string;
  readonly pool: string;
}

/** The site's whole PHP-FPM master configuration ([global] + its one pool). Pure. */
export function renderFpmConfig(templates: FpmTemplates, plan: SitePlan, paths: SitePaths, webGroup: string): string {
  const label = 'php-fpm';
  const global = renderTemplate(templates.global, { site: plan.name, pid_file: paths.fpmPid, error_log: paths.fpmLog }, fpmValue, label);
  const pool = renderTemplate(
    templates.pool,
    {
      pool: plan.account,
      user: plan.account,
      web_group: webGroup,
      socket: paths.fpmSocket,
      max_children: plan.php.maxChildren,
      site_root: paths.root,
      memory_limit: `${plan.php.memoryLimitMb}M`,
      upload_max: `${plan.php.uploadMaxMb}M`,
      // A multipart body carries the file plus the form: one MiB of headroom.
      post_max: `${plan.php.uploadMaxMb + 1}M`,
      open_basedir: `${paths.root}/`,
      tmp_dir: paths.tmp,
      php_error_log: `${paths.logs}/php-error.log`,
      disable_functions: DISABLED_FUNCTIONS.join(','),
    },
    fpmValue,
    label,
  );
  return global + pool;
}

/** `php-fpm -t`: validates a configuration without touching a running master. */
export function fpmTestArgv(binary: string, config: string, prefix: string): string[] {
  return [binary, '-t', '-y', config, '-p', prefix];
}

/** Foreground (-F): the master keeps its PID across USR2 reloads and the agent knows it from spawn. */
export function fpmStartArgv(binary: string, config: string, prefix: string): string[] {
  return [binary, '-F', '-y', config, '-p', prefix];
}

/**
 * The master stays root (it binds the socket as the site user with nginx's group and switches its
 * workers to the site user) but keeps only the capabilities for that: no CAP_SYS_ADMIN, so it
 * cannot undo its jail's mounts; no new privileges through any exec. Pure.
 */
export function fpmMasterArgv(start: readonly string[]): string[] {
  return ['/usr/bin/setpriv', '--no-new-privs', `--bounding-set=-all,${FPM_MASTER_CAPABILITIES.map((cap) => `+${cap}`).join(',')}`, '--', ...start];
}

/** setuid/setgid: workers as the site user; chown: the socket's group; kill: signal workers; dac_read_search: chdir into the site's tree before dropping to its user. */
export const FPM_MASTER_CAPABILITIES: readonly string[] = ['setuid', 'setgid', 'chown', 'kill', 'dac_read_search'];

/**
 * True when a /proc/<pid>/cmdline (NUL-separated) is the PHP-FPM master of `config`: either the
 * title it sets itself (`php-fpm: master process (<config>)`) or its argv before it does.
 */
export function isFpmMaster(cmdline: string, config: string): boolean {
  const text = cmdline.replace(/\0+$/, '');
  if (text.startsWith('php-fpm: master process (')) return text === `php-fpm: master process (${config})`;
  const argv = text.split('\0');
  return /(^|\/)php-fpm[\d.]*$/.test(argv[0] ?? '') && argv.includes(config) && argv.includes('-y');
}

/**
 * Ends the workers of `pool` whose master is gone (killed hard, a master leaves them running for
 * ever, holding memory and the old socket): QUIT so they finish their request, KILL after
 * `graceMs`. Only processes of the pool's own user (`uid`): a process another user named like a
 * worker is never signalled. Workers of the running master of `config` are left alone.
 */
export async function stopOrphanedWorkers(pool: string, uid: number, config: string, graceMs = 3000): Promise<number> {
  const worker = new RegExp(`^php-fpm: pool ${pool}(\\s|\\0|$)`);
  const own = new Map([...(await processesNamed('php-fpm: '))].filter(([, p]) => p.uid === uid || isFpmMaster(p.cmdline, config)));
  const list = orphans(own, (cmdline) => worker.test(cmdline), (cmdline) => isFpmMaster(cmdline, config));
  await stopProcesses(list, 'SIGQUIT', graceMs, () => processesNamed('php-fpm: '));
  return list.length;
}

/** The PID in a pid file, if it names a live (non-zombie) PHP-FPM master of `config`. */
export function runningMaster(pidFile: string, config: string): Promise<number | undefined> {
  return runningByPidFile(pidFile, (cmdline) => isFpmMaster(cmdline, config));
}

export interface FpmResult {
  readonly pid: number;
  /** started, reloaded or unchanged */
  readonly action: 'started' | 'reloaded' | 'unchanged';
}

/**
 * Check, apply, verify for the site's PHP-FPM master. A changed configuration is validated with
 * `-t` BEFORE it replaces the old one (a broken render never reaches a running master), then
 * reloaded with USR2; a master that is not running is started detached (own session, stdio to
 * its log) in the site's jail (which joins the site's cgroup first); `onStart` runs with the
 * running master's PID (the agent moves it and its workers into the site's cgroup again).
 */
export async function ensureMaster(
  binary: string,
  paths: SitePaths,
  config: string,
  jail: JailCommand,
  onStart: (pid: number) => Promise<void>,
  onExit?: (pid: number, code: number | null, signal: NodeJS.Signals | null) => void,
): Promise<FpmResult> {
  const current = await readIfExists(paths.fpmConfig);
  const changed = current !== config;
  if (changed) {
    const next = `${paths.fpmConfig}.next`;
    await writeFileAtomic(next, config, { mode: 0o640 });
    const test = await exec(fpmTestArgv(binary, next, paths.fpmDir), { timeoutMs: 30_000 });
    if (test.code !== 0) {
      await rm(next, { force: true });
      throw new FpmConfigError(`php-fpm -t rejected the rendered configuration: ${tail(test.stderr || test.stdout)}`);
    }
    await rename(next, paths.fpmConfig);
  }
  const running = await runningMaster(paths.fpmPid, paths.fpmConfig);
  if (running !== undefined) {
    if (changed) process.kill(running, 'SIGUSR2');
    await onStart(running);
    return { pid: running, action: changed ? 'reloaded' : 'unchanged' };
  }
  // A stale socket from a killed master would make the readiness check pass too early.
  await rm(paths.fpmSocket, { force: true });
  let ended: string | undefined;
  const pid = startDetached(jailArgv(jail, fpmMasterArgv(fpmStartArgv(binary, paths.fpmConfig, paths.fpmDir))), paths.fpmLog, paths.fpmDir, (exited, code, signal) => {
    ended = describeExit(code, signal);
    onExit?.(exited, code, signal);
  });
  await onStart(pid);
  await waitForSocket(pid, paths, () => ended);
  return { pid, action: 'started' };
}

export class FpmConfigError extends Error {
  override readonly name = 'FpmConfigError';
}

/**
 * Spawns a daemon: new session (setsid), stdio to a log file, not waited for by the agent.
 * `onExit` hears how it ended while this agent process runs (a later agent sees it only gone).
 */
export function startDetached(argv: readonly string[], logFile: string, cwd: string, onExit?: (pid: number, code: number | null, signal: NodeJS.Signals | null) => void): number {
  const [command, ...args] = argv;
  if (!command) throw new Error('empty argv');
  const log = openSync(logFile, 'a', 0o640);
  try {
    const child = spawn(command, args, { cwd, env: BASE_ENV, detached: true, stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new Error(`failed to start ${command}`);
    // Reaped by Node if it exits while the agent runs; otherwise it outlives the agent.
    child.on('error', () => undefined);
    const pid = child.pid;
    if (onExit) child.once('exit', (code, signal) => onExit(pid, code, signal));
    child.unref();
    return pid;
  } finally {
    closeSync(log);
  }
}

async function waitForSocket(pid: number, paths: SitePaths, ended: () => string | undefined, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Until it execs php-fpm, the PID is the jail's setup (unshare, enter.sh, setpriv).
    if (await gone(pid)) {
      // A child that just died is reaped (and its exit known) a moment later.
      for (let i = 0; i < 10 && ended() === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      const log = (await readIfExists(paths.fpmLog)) ?? '';
      throw new Error(`php-fpm ${ended() ?? 'exited'} before its socket appeared: ${tail(log)}`);
    }
    if ((await readIfExists(paths.fpmPid).catch(() => undefined))?.trim() === String(pid) && (await socketExists(paths.fpmSocket))) return;
    if (Date.now() > deadline) throw new Error(`php-fpm (pid ${pid}) did not open ${paths.fpmSocket} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function socketExists(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  if (!alive(pid)) return true;
  // A zombie (exited, not yet reaped by its parent) counts as gone.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat === '' || processState(stat) === 'Z';
}

/**
 * Stops a site's master by PID: QUIT (graceful: workers finish their request), then KILL for
 * the master and every worker still there after `timeoutMs`. Already stopped is fine.
 */
export async function stopMaster(pidFile: string, config: string, timeoutMs = 10_000): Promise<boolean> {
  const pid = await runningMaster(pidFile, config);
  if (pid === undefined) return false;
  const workers = await childrenOf(pid);
  process.kill(pid, 'SIGQUIT');
  const deadline = Date.now() + timeoutMs;
  while (!(await gone(pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const leftovers = [pid, ...workers, ...(await childrenOf(pid))];
  for (const p of leftovers) {
    // A worker's PID is only trusted while it still is a PHP-FPM process (PIDs are reused).
    const cmdline = p === pid ? 'php-fpm' : await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('php-fpm') && !(await gone(p))) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }
  const killDeadline = Date.now() + 5_000;
  while (!(await gone(pid))) {
    if (Date.now() > killDeadline) throw new Error(`php-fpm master ${pid} survived SIGKILL for 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
