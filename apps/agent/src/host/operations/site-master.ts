import type { SiteCgroup } from '../cgroup.js';
import { siteJail } from '../jail.js';
import { MAX_SOCKET_PATH_BYTES, type SitePaths, type SitePlan } from '../naming.js';
import { ensureMaster, FpmConfigError, renderFpmConfig, stopOrphanedWorkers, type FpmResult } from '../php-fpm.js';
import { childrenOf } from '../process-tree.js';
import { ensureDir, type Ownership } from '../safe-fs.js';
import { ensureSocketDir, type HostContext } from '../site-support.js';
import { loadTemplate } from '../template.js';
import { groupNameOf, requireUser } from '../users.js';

/** How a master the agent started ended (while this agent process runs). */
export type MasterExit = (pid: number, code: number | null, signal: NodeJS.Signals | null) => void;

/**
 * The site's PHP-FPM master, configured and running in its jail and cgroup (check, apply,
 * verify): its runtime dirs, its rendered configuration (validated before it replaces the old
 * one), then adopted or started. A converge and the supervisor's restart both come here.
 */
export async function ensureSiteMaster(ctx: HostContext, plan: SitePlan, paths: SitePaths, web: Ownership, cgroup: SiteCgroup | undefined, onExit?: MasterExit): Promise<FpmResult> {
  if (Buffer.byteLength(paths.fpmSocket) > MAX_SOCKET_PATH_BYTES) {
    throw new FpmConfigError(`the PHP-FPM socket path ${paths.fpmSocket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes: use a shorter state directory`);
  }
  await ensureDir(paths.fpmDir, { mode: 0o750, owner: { uid: 0, gid: web.gid } });
  await ensureSocketDir(paths, web);
  const templates = { global: loadTemplate(ctx.templatesDir, 'php-fpm/global.conf'), pool: loadTemplate(ctx.templatesDir, 'php-fpm/pool.conf') };
  const config = renderFpmConfig(templates, plan, paths, await groupNameOf(web.gid));
  const jail = await siteJail(ctx.settings, ctx.templatesDir, paths, {
    extra: [
      { path: paths.fpmDir, writable: true },
      { path: paths.fpmSocketDir, writable: true },
    ],
    cgroupDirs: cgroup?.dirs ?? [],
    cwd: paths.fpmDir,
    pidNamespace: false,
  });
  const result = await ensureMaster(
    ctx.settings.phpFpm.binary,
    paths,
    config,
    jail,
    async (pid) => {
      // Right after spawn (pm = ondemand: no worker yet), and again on every converge.
      if (cgroup) await cgroup.adopt([pid, ...(await childrenOf(pid))]);
    },
    onExit,
  );
  // A new master after one that was killed: its workers are still there, serving nobody.
  if (result.action === 'started') {
    const stopped = await stopOrphanedWorkers(plan.account, (await requireUser(plan.account)).uid, paths.fpmConfig);
    if (stopped > 0) ctx.logger.warn({ site: plan.name, workers: stopped }, 'php-fpm: workers of a dead master stopped');
  }
  return result;
}
