import { rm } from 'node:fs/promises';
import { exec, tail } from './exec.js';
import { readIfExists, writeFileAtomic } from './fs-util.js';
import type { SitePaths, SitePlan } from './naming.js';
import { nginxValue, renderTemplate } from './template.js';

/** The site's server block. Pure. */
export function renderServerBlock(template: string, plan: SitePlan, paths: SitePaths, listen: string): string {
  return renderTemplate(
    template,
    {
      site: plan.name,
      listen,
      server_names: plan.domains,
      site_current: paths.current,
      // The upload plus the rest of the form, as post_max_size.
      body_max: `${plan.php.uploadMaxMb + 1}m`,
      fpm_socket: paths.fpmSocket,
    },
    nginxValue,
    'nginx',
  );
}

export function nginxTestArgv(command: readonly string[]): string[] {
  return [...command, '-t', '-q'];
}

export function nginxReloadArgv(command: readonly string[]): string[] {
  return [...command, '-s', 'reload'];
}

/** Where to reach a `listen` value from this host: `127.0.0.1:8081`, `80`, `[::1]:8080`, `*:80`. Pure. */
export function listenTarget(listen: string): { host: string; port: number } {
  const bracketed = /^\[([0-9a-fA-F:]+)\]:(\d+)$/.exec(listen);
  const hostPort = /^([^:[\]]+):(\d+)$/.exec(listen);
  const portOnly = /^(\d+)$/.exec(listen);
  let host = '127.0.0.1';
  let port: number;
  if (bracketed) {
    host = bracketed[1] === '::' ? '::1' : (bracketed[1] ?? '::1');
    port = Number(bracketed[2]);
  } else if (hostPort) {
    host = hostPort[1] === '*' || hostPort[1] === '0.0.0.0' ? '127.0.0.1' : (hostPort[1] ?? '127.0.0.1');
    port = Number(hostPort[2]);
  } else if (portOnly) {
    port = Number(portOnly[1]);
  } else {
    throw new Error(`cannot reach nginx listen ${JSON.stringify(listen)}: use [host:]port`);
  }
  if (!(port > 0 && port < 65536)) throw new Error(`listen ${JSON.stringify(listen)}: bad port`);
  return { host, port };
}

export class NginxConfigError extends Error {
  override readonly name = 'NginxConfigError';
}

async function test(command: readonly string[]): Promise<string | undefined> {
  const result = await exec(nginxTestArgv(command), { timeoutMs: 30_000 });
  return result.code === 0 ? undefined : tail(result.stderr || result.stdout);
}

async function reload(command: readonly string[]): Promise<void> {
  const result = await exec(nginxReloadArgv(command), { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`nginx -s reload failed: ${tail(result.stderr || result.stdout)}`);
}

/**
 * Check, apply, verify: writes the block atomically when it differs, runs `nginx -t`, and either
 * reloads or puts the previous file back (or removes the new one) and throws NginxConfigError.
 * Returns true when it changed the file.
 */
export async function ensureServerBlock(command: readonly string[], file: string, content: string): Promise<boolean> {
  const previous = await readIfExists(file);
  if (previous === content) return false;
  await writeFileAtomic(file, content, { mode: 0o644 });
  const problem = await test(command);
  if (problem !== undefined) {
    if (previous === undefined) await rm(file, { force: true });
    else await writeFileAtomic(file, previous, { mode: 0o644 });
    throw new NginxConfigError(`nginx -t rejected the server block, the previous configuration is kept: ${problem}`);
  }
  await reload(command);
  return true;
}

/** Removes the block, then tests and reloads. Already gone is fine. Returns true when it removed it. */
export async function removeServerBlock(command: readonly string[], file: string): Promise<boolean> {
  if ((await readIfExists(file)) === undefined) return false;
  await rm(file, { force: true });
  const problem = await test(command);
  if (problem !== undefined) throw new NginxConfigError(`nginx -t fails after removing ${file}: ${problem}`);
  await reload(command);
  return true;
}
