import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit } from '@pressluft/domain';
import type { SiteConfig } from '@pressluft/proto';
import { tail } from '../exec.js';
import { planSite, sitePaths } from '../naming.js';
import { listenTarget } from '../nginx.js';
import { runningNginx, stopOrphanedNginxChildren } from '../nginx-process.js';
import { runningMaster, startDetached } from '../php-fpm.js';
import { checkService } from '../probes.js';
import { readIfExists } from '../safe-fs.js';
import { siteCgroup, type HostContext } from '../site-support.js';
import type { Supervisor } from '../supervisor.js';
import { requireUser } from '../users.js';
import { ensureSiteMaster } from './site-master.js';

const NGINX_START_TIMEOUT_MS = 10_000;

/**
 * Keeps a provisioned site's PHP-FPM master running: one look (its pid file names a live master
 * of its configuration), a restart in its jail and cgroup when the supervisor says so. A site
 * whose master was never configured (a provision that did not get that far) is left alone: a
 * converge starts it. True when the site's supervision changed.
 */
export async function superviseSite(ctx: HostContext, supervisor: Supervisor, site: SiteConfig): Promise<boolean> {
  const plan = planSite(site);
  const paths = sitePaths(ctx.settings, plan.name, plan.id);
  if (!(await isFile(paths.fpmConfig))) return false;
  return supervisor.supervise(
    plan.name,
    () => runningMaster(paths.fpmPid, paths.fpmConfig),
    async () => {
      const web = await requireUser(ctx.settings.nginx.user);
      const { pid } = await ensureSiteMaster(ctx, plan, paths, web, await siteCgroup(ctx, plan), supervisor.exited);
      ctx.logger.warn({ site: plan.name, pid, restarts: supervisor.state(plan.name).restarts + 1 }, 'supervision: PHP-FPM master started again');
      return pid;
    },
    () => pidIn(paths.fpmPid),
  );
}

/**
 * The node's nginx, when the agent is told to keep it running (settings nginx.pidFile): started
 * again with its own command (`nginx.command`, which starts it) when its master is gone.
 */
export async function superviseNginx(ctx: HostContext, supervisor: Supervisor): Promise<boolean> {
  const pidFile = ctx.settings.nginx.pidFile;
  if (!pidFile) return false;
  return supervisor.supervise(
    'nginx',
    () => runningNginx(pidFile),
    async () => {
      const orphans = await stopOrphanedNginxChildren();
      if (orphans > 0) ctx.logger.warn({ orphans }, 'supervision: workers of a dead nginx master stopped');
      await mkdir(ctx.settings.stateDir, { recursive: true, mode: 0o711 });
      const log = join(ctx.settings.stateDir, 'nginx-start.log');
      // A daemonizing nginx's first process exits 0 once its master runs; anything else is a failed start.
      let failed: string | undefined;
      const started = startDetached(ctx.settings.nginx.command, log, '/', (pid, code, signal) => {
        supervisor.exited(pid, code, signal);
        if (code !== 0) failed = describeExit(code, signal);
      });
      const deadline = Date.now() + NGINX_START_TIMEOUT_MS;
      for (;;) {
        const pid = await runningNginx(pidFile);
        if (pid !== undefined && (await checkService(listenTarget(ctx.settings.nginx.listen), { answer: false, timeoutMs: 1000 })).up) {
          ctx.logger.warn({ pid }, 'supervision: nginx started again');
          return pid;
        }
        if (failed) throw new Error(`nginx ${failed}: ${tail((await readIfExists(log).catch(() => undefined)) ?? '', 2)}`);
        if (Date.now() > deadline) throw new Error(`nginx (started as pid ${started}) is not serving within ${NGINX_START_TIMEOUT_MS} ms; see ${log} and its error log`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    () => pidIn(pidFile),
  );
}

/** The number a pid file holds (not checked: for how a process that is gone ended). */
async function pidIn(file: string): Promise<number | undefined> {
  const pid = Number((await readIfExists(file).catch(() => undefined))?.trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isFile();
  } catch {
    return false;
  }
}
