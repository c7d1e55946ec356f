import { describeExit } from '@pressluft/domain';
import type { SiteConfig } from '@pressluft/proto';
import { tail } from '../exec.js';
import { execJailed, siteJail } from '../jail.js';
import { planSite, sitePaths } from '../naming.js';
import { currentRelease } from '../releases.js';
import { siteCgroup, type HostContext } from '../site-support.js';
import { requireUser } from '../users.js';
import { cronRunArgv, WpCliError, wpCliEnv } from '../wordpress.js';

export const DEFAULT_CRON_TIMEOUT_MS = 5 * 60_000;

/**
 * The site's due WP-Cron events: `wp cron event run --due-now` as the site user in its jail (own
 * PID namespace: whatever a hook leaves running dies with it) and cgroup, killed after
 * cronTimeoutMs. A site without a `current` release (not provisioned, or being removed) is left
 * alone. A failure rejects with the exit and the last line of output.
 */
export async function runCron(ctx: HostContext, site: SiteConfig): Promise<void> {
  const plan = planSite(site);
  const paths = sitePaths(ctx.settings, plan.name, plan.id);
  if ((await currentRelease(paths)) === undefined) return;
  const owner = await requireUser(plan.account);
  const group = await siteCgroup(ctx, plan);
  const jail = await siteJail(ctx.settings, ctx.templatesDir, paths, { cgroupDirs: group?.dirs ?? [], cwd: paths.tmp, pidNamespace: true });
  const timeoutMs = ctx.settings.cronTimeoutMs ?? DEFAULT_CRON_TIMEOUT_MS;
  const started = Date.now();
  const result = await execJailed(jail, owner, cronRunArgv(ctx.settings.wpCli, paths.current), { env: wpCliEnv(ctx.templatesDir, paths), timeoutMs });
  if (result.code === 0) return;
  const timedOut = result.signal === 'SIGKILL' && Date.now() - started >= timeoutMs;
  const why = timedOut ? `was killed after its timeout of ${timeoutMs} ms` : describeExit(result.code, result.signal);
  throw new WpCliError(`wp cron event run --due-now ${why}: ${tail(result.stderr || result.stdout, 1)}`);
}
