import { lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { messageOf, StepError } from './errors.js';
import { tail } from './exec.js';
import { ensureDir, type Ownership } from './fs-util.js';
import { execJailed, phpCliEnv, type JailCommand } from './jail.js';

/**
 * `composer install` of a release's wp-content. No plugins and no scripts: Composer would run
 * them as PHP CLI code outside the pool's limits (no open_basedir, exec allowed) at build time,
 * before any health check; with both off, installing executes no code from the repository or its
 * packages. No dev packages; an optimized autoloader, since a release's files never change after
 * it is built. Composer itself runs as the site user in the site's jail and cgroup, with the
 * pool's open_basedir and disable_functions but for COMPOSER_ALLOWED_FUNCTIONS.
 */
export const COMPOSER_INSTALL_ARGS: readonly string[] = [
  'install',
  '--no-dev',
  '--no-interaction',
  '--no-progress',
  '--no-ansi',
  '--prefer-dist',
  '--optimize-autoloader',
  '--no-plugins',
  '--no-scripts',
];

/** A slow mirror or a large lock file may take minutes; a hung resolver must not hold the site's deploys forever. */
export const COMPOSER_TIMEOUT_MS = 600_000;

/** Lines of Composer's output kept for the step log or the failure message (the solver's reason sits ~10 lines from the end). */
const OUTPUT_LINES = 12;

/**
 * What Composer needs of the pool's disabled functions: putenv (its XdebugHandler sets its
 * environment at start) and proc_* (it runs git, unzip and 7z through Symfony Process to unpack
 * packages). Only Composer's own code runs (no plugins, no scripts), in the jail.
 */
export const COMPOSER_ALLOWED_FUNCTIONS: readonly string[] = ['putenv', 'proc_open', 'proc_close', 'proc_get_status', 'proc_terminate'];

/** Composer's own code and the CA bundle it links to (Debian's composer package): readable besides the site's tree and Composer's HOME. */
export const COMPOSER_CODE_DIRS: readonly string[] = ['/usr/share/php/', '/etc/ssl/certs/'];

export function composerInstallArgv(composer: readonly string[]): string[] {
  return [...composer, ...COMPOSER_INSTALL_ARGS];
}

/**
 * Composer's environment as the site user: nothing of the agent's; HOME, config and cache in the
 * site's own composer dir (outside the pool's open_basedir, so the site's PHP cannot poison the
 * cache of its next build); vendor/ and its bin/ always inside wp-content, whatever composer.json
 * says, so an install writes nothing outside the release.
 */
export function composerEnv(templatesDir: string, siteRoot: string, home: string): NodeJS.ProcessEnv {
  return phpCliEnv(templatesDir, [`${siteRoot}/`, `${home}/`, ...COMPOSER_CODE_DIRS], COMPOSER_ALLOWED_FUNCTIONS, {
    HOME: home,
    COMPOSER_HOME: join(home, 'config'),
    COMPOSER_CACHE_DIR: join(home, 'cache'),
    COMPOSER_VENDOR_DIR: 'vendor',
    COMPOSER_BIN_DIR: 'vendor/bin',
    COMPOSER_NO_INTERACTION: '1',
  });
}

/** The last lines of Composer's output that say something (it writes progress and errors to stderr). */
export function composerOutputTail(stdout: string, stderr: string): string {
  const lines = `${stdout}\n${stderr}`.split('\n').filter((line) => line.trim() !== '');
  return tail(lines.join('\n'), OUTPUT_LINES);
}

export type DependencyInstall = { readonly ran: false } | { readonly ran: true; readonly ms: number; readonly output: string };

/**
 * Runs `composer install` in `wpContent` when it holds a composer.json (else nothing), as the
 * site user in `jail` (the site's, with `home` bound in and `wpContent` as its working directory;
 * it joins the site's cgroup before Composer starts, so git and unzip run there too; nothing
 * Composer starts outlives it), with `home` (made here: the site user's, 0700; its parent
 * root's, 0711) as Composer's HOME. A failure is DependencyInstallFailed with the tail of
 * Composer's output.
 */
export async function installDependencies(options: {
  readonly composer: readonly string[];
  readonly wpContent: string;
  readonly home: string;
  readonly owner: Ownership;
  readonly siteRoot: string;
  readonly templatesDir: string;
  readonly jail: JailCommand;
  readonly timeoutMs?: number;
}): Promise<DependencyInstall> {
  const manifest = await lstat(join(options.wpContent, 'composer.json')).catch(() => undefined);
  if (!manifest?.isFile()) return { ran: false };
  await ensureDir(dirname(options.home), { mode: 0o711 });
  await ensureDir(options.home, { mode: 0o700, owner: options.owner });
  const started = Date.now();
  const argv = composerInstallArgv(options.composer);
  const timeoutMs = options.timeoutMs ?? COMPOSER_TIMEOUT_MS;
  const env = composerEnv(options.templatesDir, options.siteRoot, options.home);
  const result = await execJailed(options.jail, options.owner, argv, { env, timeoutMs }).catch((error: unknown) => {
    throw new StepError('dependencies', 'DependencyInstallFailed', `composer could not run (${argv[0] ?? ''}): ${messageOf(error)}`);
  });
  const output = composerOutputTail(result.stdout, result.stderr);
  if (result.code !== 0) {
    const why = result.signal ? `was killed by ${result.signal}${result.signal === 'SIGKILL' ? ` (timeout ${Math.round(timeoutMs / 1000)} s?)` : ''}` : `exited ${String(result.code)}`;
    throw new StepError('dependencies', 'DependencyInstallFailed', `composer install ${why}:\n${output}`);
  }
  return { ran: true, ms: Date.now() - started, output };
}
