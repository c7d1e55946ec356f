import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit } from '@pressluft/domain';
import type { SiteConfig } from '@pressluft/proto';
import { tail } from '../exec.js';
import { planSite, sitePaths } from '../naming.js';
import { listenTarget } from '../nginx.js';
import { runningMaster, startDetached } from '../php-fpm.js';
import { checkService, type ServiceCheck } from '../probes.js';
import { readPid, runningByPidFile } from '../process-tree.js';
import { isNginxMaster, isRedisServer, stopOrphanedNginxChildren, type KeptService } from '../service-process.js';
import { servePurgeSocket } from '../page-cache.js';
import { readIfExists } from '../safe-fs.js';
import { siteCgroup, type HostContext } from '../site-support.js';
import type { Supervisor } from '../supervisor.js';
import { requireUser } from '../users.js';
import { ensureSiteMaster } from './site-master.js';

const SERVICE_START_TIMEOUT_MS = 10_000;

/**
 * Keeps a provisioned site's PHP-FPM master running: one look (its pid file names a live master
 * of its configuration), a restart in its jail and cgroup when the supervisor says so; and its
 * purge socket served (after an agent restart, from the first round on). A site
 * whose master was never configured (a provision that did not get that far) is left alone: a
 * converge starts it. True when the site's supervision changed.
 */
export async function superviseSite(ctx: HostContext, supervisor: Supervisor, site: SiteConfig): Promise<boolean> {
  const plan = planSite(site);
  const paths = sitePaths(ctx.settings, plan.name, plan.id);
  if (!(await isFile(paths.fpmConfig))) return false;
  // Not the master's business: a socket that cannot be served is logged, the master still supervised.
  await servePurgeSocket(ctx, plan.name, plan.id).catch((error: unknown) => ctx.logger.warn({ site: plan.name, err: error instanceof Error ? error.message : String(error) }, 'purge socket not served'));
  return supervisor.supervise(
    plan.name,
    () => runningMaster(paths.fpmPid, paths.fpmConfig),
    async () => {
      const web = await requireUser(ctx.settings.nginx.user);
      const { pid } = await ensureSiteMaster(ctx, plan, paths, web, await siteCgroup(ctx, plan), supervisor.exited);
      ctx.logger.warn({ site: plan.name, pid, restarts: supervisor.state(plan.name).restarts + 1 }, 'supervision: PHP-FPM master started again');
      return pid;
    },
    () => readPid(paths.fpmPid).catch(() => undefined),
  );
}

/** The node's services the agent keeps running (nginx, Redis: only those whose pid file it is told). True when one's supervision changed. */
export async function superviseServices(ctx: HostContext, supervisor: Supervisor): Promise<boolean> {
  const { nginx, redis } = ctx.settings;
  let changed = false;
  if (nginx.pidFile) {
    const ready = () => checkService(listenTarget(nginx.listen), { answer: false, timeoutMs: 1000 });
    changed = (await superviseService(ctx, supervisor, 'nginx', { command: nginx.command, pidFile: nginx.pidFile }, isNginxMaster, ready, stopOrphanedNginxChildren)) || changed;
  }
  if (redis?.keep) {
    const ready = () => checkService({ path: redis.socket }, { answer: true, greeting: 'PING\r\n', timeoutMs: 1000 });
    changed = (await superviseService(ctx, supervisor, 'redis', redis.keep, isRedisServer, ready)) || changed;
  }
  return changed;
}

/**
 * One node service: its pid file names a live process of its kind, or it is started again with
 * its command (after `beforeStart`: nginx's orphaned workers) and counts as started once it
 * answers (`ready`). A start that exits non-zero is a failed start at once (its log's tail).
 */
async function superviseService(
  ctx: HostContext,
  supervisor: Supervisor,
  name: string,
  service: KeptService,
  matches: (cmdline: string) => boolean,
  ready: () => Promise<ServiceCheck>,
  beforeStart?: () => Promise<number>,
): Promise<boolean> {
  return supervisor.supervise(
    name,
    () => runningByPidFile(service.pidFile, matches),
    async () => {
      const orphans = (await beforeStart?.()) ?? 0;
      if (orphans > 0) ctx.logger.warn({ service: name, orphans }, 'supervision: workers of a dead master stopped');
      await mkdir(ctx.settings.stateDir, { recursive: true, mode: 0o711 });
      const log = join(ctx.settings.stateDir, `${name}-start.log`);
      // A daemonizing service's first process exits 0 once its main process runs; anything else is a failed start.
      let failed: string | undefined;
      const started = startDetached(service.command, log, '/', (pid, code, signal) => {
        supervisor.exited(pid, code, signal);
        if (code !== 0) failed = describeExit(code, signal);
      });
      const deadline = Date.now() + SERVICE_START_TIMEOUT_MS;
      for (;;) {
        const pid = await runningByPidFile(service.pidFile, matches);
        if (pid !== undefined && (await ready()).up) {
          ctx.logger.warn({ service: name, pid }, 'supervision: service started again');
          return pid;
        }
        if (failed) throw new Error(`${name} ${failed}: ${tail((await readIfExists(log).catch(() => undefined)) ?? '', 2)}`);
        if (Date.now() > deadline) throw new Error(`${name} (started as pid ${started}) is not serving within ${SERVICE_START_TIMEOUT_MS} ms; see ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    () => readPid(service.pidFile).catch(() => undefined),
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isFile();
  } catch {
    return false;
  }
}
