import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exec, tail } from './exec.js';
import { childrenOf } from './process-tree.js';
import { readIfExists, writeFileAtomic } from './safe-fs.js';

/** Beside the sites' blocks, which are all `site_<id>.conf`. */
export function defaultServerFile(sitesDir: string): string {
  return join(sitesDir, 'default-server.conf');
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

/** A process's title as nginx sets it (`nginx: master process <argv>`, `nginx: worker process`), or ''. */
async function titleOf(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0] ?? '';
}

/** The workers taking new connections now: the children of our master that are not shutting down. */
async function liveWorkers(command: readonly string[]): Promise<number[] | undefined> {
  const masters: Array<{ pid: number; title: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const title = await titleOf(Number(entry));
    if (title.startsWith('nginx: master process')) masters.push({ pid: Number(entry), title });
  }
  const master = masters.find((p) => p.title === `nginx: master process ${command.join(' ')}`) ?? (masters.length === 1 ? masters[0] : undefined);
  if (!master) return undefined;
  const workers: number[] = [];
  for (const pid of await childrenOf(master.pid)) if ((await titleOf(pid)) === 'nginx: worker process') workers.push(pid);
  return workers;
}

/**
 * `nginx -s reload` only signals the master: it answers before the new configuration serves. Wait
 * (up to 10 s) until none of the workers that took connections before still does, so that a step
 * that reloaded nginx is done only when every new request meets the new server blocks. When the
 * master cannot be told apart (several unrelated masters), the signal is all there is.
 */
async function reload(command: readonly string[]): Promise<void> {
  const before = await liveWorkers(command);
  const result = await exec(nginxReloadArgv(command), { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`nginx -s reload failed: ${tail(result.stderr || result.stdout)}`);
  if (before === undefined) return;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const now = (await liveWorkers(command)) ?? [];
    if (now.length > 0 && !now.some((pid) => before.includes(pid))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// One nginx per node: every change (write, test, reload, restore) runs alone, so two sites' changes
// never interleave and a restore never undoes another site's block.
let queue: Promise<unknown> = Promise.resolve();

function serialised<T>(work: () => Promise<T>): Promise<T> {
  const next = queue.then(work);
  queue = next.catch(() => undefined);
  return next;
}

/** Tests and reloads what is on disk now; when either fails, `restore` puts the previous file back and it throws. */
async function testAndReload(command: readonly string[], restore: () => Promise<void>, what: string): Promise<void> {
  const problem = await test(command);
  if (problem !== undefined) {
    await restore();
    throw new NginxConfigError(`nginx -t rejected ${what}, the previous configuration is kept: ${problem}`);
  }
  try {
    await reload(command);
  } catch (error) {
    await restore();
    throw new NginxConfigError(`${error instanceof Error ? error.message : String(error)}; the previous ${what} is back on disk`);
  }
}

function restorer(file: string, previous: string | undefined): () => Promise<void> {
  return async () => {
    if (previous === undefined) await rm(file, { force: true });
    else await writeFileAtomic(file, previous, { mode: 0o644 });
  };
}

/**
 * Check, apply, verify: writes the block atomically when it differs, runs `nginx -t`, and either
 * reloads or puts the previous file back (or removes the new one) and throws NginxConfigError; a
 * failed reload restores the previous file too. One change at a time on the node. Returns true
 * when it changed the file.
 */
export function ensureServerBlock(command: readonly string[], file: string, content: string): Promise<boolean> {
  return serialised(async () => {
    const previous = await readIfExists(file);
    if (previous === content) return false;
    await writeFileAtomic(file, content, { mode: 0o644 });
    await testAndReload(command, restorer(file, previous), 'the server block');
    return true;
  });
}

/** Removes the block, then tests and reloads (the block comes back when that fails). Already gone is fine. Returns true when it removed it. */
export function removeServerBlock(command: readonly string[], file: string): Promise<boolean> {
  return serialised(async () => {
    const previous = await readIfExists(file);
    if (previous === undefined) return false;
    await rm(file, { force: true });
    await testAndReload(command, restorer(file, previous), `the removal of ${file}`);
    return true;
  });
}

/**
 * Tests and reloads the configuration as it is (a server block that names files whose content
 * changed, such as a renewed certificate, needs nginx to read them again: a graceful reload,
 * requests in flight finish on the old ones). When `nginx -t` refuses it, `restore` runs and it
 * throws NginxConfigError. One change at a time on the node, like the block writes.
 */
export function reloadConfiguration(command: readonly string[], restore: () => Promise<void>, what: string): Promise<void> {
  return serialised(() => testAndReload(command, restore, what));
}
