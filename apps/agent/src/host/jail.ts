import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BASE_ENV, exec, type ExecResult } from './exec.js';
import { isErrno, type Ownership } from './safe-fs.js';
import type { SitePaths } from './naming.js';
import { DISABLED_FUNCTIONS } from './php-hardening.js';
import type { HostSettings } from './settings.js';

/**
 * A site's filesystem jail (docs/adr/0022-site-jail.md): a mount namespace whose root is the
 * host's tree read-only, with the sites root and the agent's state hidden under empty read-only
 * tmpfs mounts, a private /tmp, a proc that shows a process only its own user's processes, and
 * only the paths in `keep` bound back in at their own paths.
 */
export interface JailLayout {
  /** An empty root-only directory the jail's tree is mounted on (inside the jail's namespace only). */
  readonly mountPoint: string;
  /** Hidden under an empty read-only tmpfs. */
  readonly hide: readonly string[];
  /** Bound back in at the same path, writable or read-only. */
  readonly keep: readonly { readonly path: string; readonly writable: boolean }[];
  /** cgroup.procs files joined before anything runs in the jail. */
  readonly cgroupProcs: readonly string[];
}

/** The jail's private /tmp, and the mount options of its tmpfs mounts. */
const PRIVATE_TMP = '/tmp';
const TMP_OPTIONS = 'mode=1777,nosuid,nodev';
const HIDE_OPTIONS = 'mode=0755,nosuid,nodev,noexec';

/** True when `path` is `dir` or below it. Pure. */
export function isWithin(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/** The mount points of a /proc/<pid>/mountinfo text, in order, each once (octal escapes decoded). Pure. */
export function mountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (!out.includes(point)) out.push(point);
  }
  return out;
}

/**
 * The operations of templates/jail/enter.sh that build the jail, in order: join the cgroups;
 * mount the host's tree on the mount point and make every mount in it read-only; a new proc;
 * tmpfs over the hidden paths and /tmp (the outermost of them only); the kept paths bound back
 * in (read-only ones remounted so); the hiding tmpfs mounts sealed read-only; the tree pivoted
 * to / (the host's root detached); `cwd`. Pure.
 */
export function jailOps(layout: JailLayout, hostMounts: readonly string[], cwd: string): string[] {
  const m = (path: string) => join(layout.mountPoint, path);
  const covering = [...new Set([...layout.hide, PRIVATE_TMP])];
  const outermost = covering.filter((path) => !covering.some((other) => other !== path && isWithin(path, other)));
  const covered = ['/proc', ...outermost];
  const readOnly = hostMounts.filter((point) => point !== '/' && !covered.some((dir) => isWithin(point, dir)));
  const keep = [...layout.keep].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return [
    ...layout.cgroupProcs.flatMap((file) => ['cgroup', file]),
    'rbind', '/', layout.mountPoint,
    'ro', layout.mountPoint,
    ...readOnly.flatMap((point) => ['ro', m(point)]),
    'proc', m('/proc'),
    ...outermost.flatMap((path) => ['tmpfs', m(path), path === PRIVATE_TMP ? TMP_OPTIONS : HIDE_OPTIONS]),
    ...keep.flatMap(({ path, writable }) => ['bind', path, m(path), ...(writable ? [] : ['ro', m(path)])]),
    ...outermost.filter((path) => path !== PRIVATE_TMP).flatMap((path) => ['ro', m(path)]),
    'pivot', layout.mountPoint,
    'chdir', cwd,
  ];
}

export interface JailCommand {
  /** templates/jail/enter.sh */
  readonly helper: string;
  readonly ops: readonly string[];
  /**
   * A new PID namespace too, with the helper as its PID 1 waiting for the command: whatever the
   * command leaves running is killed by the kernel when it ends (or when the agent kills it).
   */
  readonly pidNamespace: boolean;
}

/** The argv the agent spawns (as root) to run `command` in a jail. Pure. */
export function jailArgv(jail: JailCommand, command: readonly string[]): string[] {
  return [
    '/usr/bin/unshare',
    '--mount',
    '--propagation',
    'private',
    ...(jail.pidNamespace ? ['--pid', '--fork', '--kill-child'] : []),
    '--',
    '/bin/sh',
    jail.helper,
    ...jail.ops,
    jail.pidNamespace ? 'run' : 'exec',
    '--',
    ...command,
  ];
}

/** `command` as the site user: its uid and gid, no supplementary groups, no capabilities, no way to gain any. Pure. */
export function asSiteUser(owner: Ownership, command: readonly string[]): string[] {
  return ['/usr/bin/setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--no-new-privs', '--bounding-set=-all', '--', ...command];
}

/**
 * The PHP CLI's environment for WP-CLI and Composer as a site: the pool's limits through
 * templates/php-cli/pressluft.ini (added to the CLI's scan dirs) and the variables it reads.
 * `allowed`: functions of the pool's list this command needs (documented at each caller). Pure.
 */
export function phpCliEnv(templatesDir: string, openBasedir: readonly string[], allowed: readonly string[], extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...BASE_ENV,
    ...extra,
    PHP_INI_SCAN_DIR: `:${join(templatesDir, 'php-cli')}`,
    PRESSLUFT_OPEN_BASEDIR: openBasedir.join(':'),
    PRESSLUFT_DISABLE_FUNCTIONS: DISABLED_FUNCTIONS.filter((name) => !allowed.includes(name)).join(','),
  };
}

/**
 * A site's jail: everything of the OS, read-only; of the sites and the agent's state only the
 * site's own tree (writable), the database's and Redis's socket directories (read-only; a
 * socket on a read-only mount still takes connections) and `extra`. Pure.
 */
export function siteJailLayout(settings: HostSettings, paths: SitePaths, extra: JailLayout['keep'], cgroupDirs: readonly string[]): JailLayout {
  return {
    mountPoint: join(settings.stateDir, 'jail'),
    hide: [settings.sitesRoot, settings.stateDir],
    keep: [
      { path: paths.root, writable: true },
      ...[settings.mariadb.socket, ...(settings.redis ? [settings.redis.socket] : [])].map((socket) => ({ path: dirname(socket), writable: false })),
      ...extra,
    ],
    cgroupProcs: cgroupDirs.map((dir) => join(dir, 'cgroup.procs')),
  };
}

/**
 * What the jail's commands need from places it hides (a checkout under /tmp, say): the directories
 * of WP-CLI's and Composer's programs and of the CLI's php.ini for sites, bound back read-only.
 * Without the ini dir PHP would start without the pool's limits. Pure.
 */
export function hostToolDirs(settings: HostSettings, templatesDir: string): JailLayout['keep'] {
  const hidden = [PRIVATE_TMP, settings.sitesRoot, settings.stateDir];
  const dirs = [...settings.wpCli, ...settings.composer].filter((arg) => arg.startsWith('/')).map((arg) => dirname(arg));
  return [...new Set([...dirs, join(templatesDir, 'php-cli')])].filter((dir) => hidden.some((area) => isWithin(dir, area))).map((path) => ({ path, writable: false }));
}

/** A site's jail for one command (siteJailLayout), from the host's mounts as they are now. */
export async function siteJail(
  settings: HostSettings,
  templatesDir: string,
  paths: SitePaths,
  options: { readonly extra?: JailLayout['keep']; readonly cgroupDirs: readonly string[]; readonly cwd: string; readonly pidNamespace: boolean },
): Promise<JailCommand> {
  const layout = siteJailLayout(settings, paths, [...(options.extra ?? []), ...hostToolDirs(settings, templatesDir)], options.cgroupDirs);
  await mkdir(layout.mountPoint, { mode: 0o700 }).catch((error: unknown) => {
    if (!isErrno(error, 'EEXIST')) throw error;
  });
  const hostMounts = mountPoints(await readFile('/proc/self/mountinfo', 'utf8'));
  return { helper: join(templatesDir, 'jail', 'enter.sh'), ops: jailOps(layout, hostMounts, options.cwd), pidNamespace: options.pidNamespace };
}

/**
 * Runs `command` to completion in a jail with its own PID namespace, as the site user (nothing
 * it starts outlives it). The agent spawns the jail as root; stdin, env and the timeout as exec's.
 */
export function execJailed(jail: JailCommand, owner: Ownership, command: readonly string[], options: { readonly env: NodeJS.ProcessEnv; readonly input?: string; readonly timeoutMs: number }): Promise<ExecResult> {
  return exec(jailArgv(jail, asSiteUser(owner, command)), options);
}
