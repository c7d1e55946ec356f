import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fastcgiRequest, type FcgiResult } from './fastcgi.js';
import { isFpmMaster, runningMaster } from './php-fpm.js';
import type { SitePaths } from './naming.js';

export interface HealthTarget {
  /** The release directory (its real path: what nginx's $realpath_root would give after the switch). */
  readonly releaseDir: string;
  /** The site's first domain: HTTP_HOST and SERVER_NAME. */
  readonly domain: string;
  /** The port nginx serves the site on (SERVER_PORT), and whether it is TLS. */
  readonly serverPort: number;
  readonly https: boolean;
}

/** The FastCGI parameters nginx's server block sends for GET / (see templates/nginx/site.conf), pointed at one release. Pure. */
export function healthParams(target: HealthTarget, path = '/'): Record<string, string> {
  return {
    SCRIPT_FILENAME: join(target.releaseDir, 'index.php'),
    DOCUMENT_ROOT: target.releaseDir,
    SCRIPT_NAME: '/index.php',
    QUERY_STRING: '',
    REQUEST_METHOD: 'GET',
    CONTENT_TYPE: '',
    CONTENT_LENGTH: '',
    REQUEST_URI: path,
    DOCUMENT_URI: '/index.php',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_SCHEME: target.https ? 'https' : 'http',
    ...(target.https ? { HTTPS: 'on' } : {}),
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'nginx',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '0',
    SERVER_ADDR: '127.0.0.1',
    SERVER_PORT: String(target.serverPort),
    SERVER_NAME: target.domain,
    REDIRECT_STATUS: '200',
    HTTP_PROXY: '',
    HTTP_HOST: target.domain,
    HTTP_USER_AGENT: 'pressluft-health-check',
    HTTP_ACCEPT: 'text/html',
  };
}

/**
 * GET / of a release, executed by the site's OWN PHP-FPM pool (its socket, user, open_basedir,
 * limits) over FastCGI, exactly as nginx would pass it once `current` points there, but before
 * it does. Resolves with the answer (status from the CGI Status header); rejects on no answer.
 */
export function checkRelease(paths: SitePaths, target: HealthTarget, timeoutMs = 30_000): Promise<FcgiResult> {
  return fastcgiRequest(paths.fpmSocket, healthParams(target), timeoutMs);
}

/**
 * Graceful reload of the site's PHP-FPM master (USR2: old workers finish their requests within
 * process_control_timeout, then the master re-executes itself with the same PID, keeping its
 * listening socket, so requests arriving meanwhile queue in the backlog instead of failing), so
 * opcache holds nothing of the previous release. Waits until the master's log says it is ready
 * again ("ready to handle connections" after the offset the log had before the signal).
 */
export async function reloadMaster(paths: SitePaths, timeoutMs = 20_000): Promise<number> {
  const pid = await runningMaster(paths.fpmPid, paths.fpmConfig);
  if (pid === undefined) throw new Error(`the PHP-FPM master of ${paths.fpmConfig} is not running`);
  const offset = await stat(paths.fpmLog).then((s) => s.size).catch(() => 0);
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (reloadDone(await readFrom(paths.fpmLog, offset))) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (isFpmMaster(cmdline, paths.fpmConfig)) return pid;
      throw new Error(`php-fpm master ${pid} is gone after its reload`);
    }
    if (Date.now() > deadline) throw new Error(`php-fpm master ${pid} did not report ready within ${timeoutMs} ms of its reload`);
  }
}

/** True when PHP-FPM's log (from the reload on) says the re-executed master listens again. Pure. */
export function reloadDone(logSince: string): boolean {
  return /ready to handle connections/.test(logSince);
}

async function readFrom(path: string, offset: number): Promise<string> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    if (size <= offset) return '';
    const buffer = Buffer.alloc(Math.min(size - offset, 1 << 20));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
