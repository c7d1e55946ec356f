import { readFile } from 'node:fs/promises';
import { processState } from './php-fpm.js';
import { orphans, processesNamed, stopProcesses } from './process-tree.js';
import { isErrno, readIfExists } from './safe-fs.js';

/** The PID in nginx's pid file when it names a live nginx master. */
export async function runningNginx(pidFile: string): Promise<number | undefined> {
  const pid = Number((await readIfExists(pidFile).catch(() => undefined))?.trim());
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    const [cmdline, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
    return cmdline.startsWith('nginx: master process') && processState(stat) !== 'Z' ? pid : undefined;
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ESRCH')) return undefined;
    throw error;
  }
}

const NGINX_CHILD = /^nginx: (worker|cache manager|cache loader) process/;

/**
 * Ends nginx workers whose master is gone (they would keep the sites' port, so a new master
 * could not bind): QUIT, so they finish their requests, KILL after `graceMs`. Any nginx's
 * orphans on the machine: a worker without a master serves a configuration nobody can change.
 */
export async function stopOrphanedNginxChildren(graceMs = 3000): Promise<number> {
  const list = orphans(await processesNamed('nginx: '), (cmdline) => NGINX_CHILD.test(cmdline), (cmdline) => cmdline.startsWith('nginx: master process'));
  await stopProcesses(list, 'SIGQUIT', graceMs, () => processesNamed('nginx: '));
  return list.length;
}
