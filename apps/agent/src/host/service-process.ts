import { orphans, processesNamed, stopProcesses } from './process-tree.js';

/** A node service the agent keeps running (no systemd): how to start it and how to know it. */
export interface KeptService {
  /** argv that starts it (a daemonizing one may exit 0 once its main process runs). */
  readonly command: readonly string[];
  /** Its pid file (the service writes it): the PID of its main process. */
  readonly pidFile: string;
}

/** True for the cmdline (NUL-separated, as /proc gives it) of nginx's master. */
export const isNginxMaster = (cmdline: string): boolean => cmdline.startsWith('nginx: master process');
/** True for redis-server's cmdline (its title: `/usr/bin/redis-server <addr>` or argv). */
export const isRedisServer = (cmdline: string): boolean => /^(\S*\/)?redis-server(\s|\0|$)/.test(cmdline);

const NGINX_CHILD = /^nginx: (worker|cache manager|cache loader) process/;

/**
 * Ends nginx workers whose master is gone (they would keep the sites' port, so a new master
 * could not bind): QUIT, so they finish their requests, KILL after `graceMs`. Any nginx's
 * orphans on the machine: a worker without a master serves a configuration nobody can change.
 */
export async function stopOrphanedNginxChildren(graceMs = 3000): Promise<number> {
  const list = orphans(await processesNamed('nginx: '), (cmdline) => NGINX_CHILD.test(cmdline), isNginxMaster);
  await stopProcesses(list, 'SIGQUIT', graceMs, () => processesNamed('nginx: '));
  return list.length;
}
