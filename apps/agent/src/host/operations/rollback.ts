import type { ReleasesResult, StepReporter } from '@pressluft/agent-runtime';
import { StepError, type StepName } from '../errors.js';
import { accountName, checkId, checkName, sitePaths } from '../naming.js';
import { purgePageCache } from '../page-cache.js';
import { checkReleaseName, listReleases, previousRelease } from '../releases.js';
import { firstDomain, healthCheck, requireProvisioned, switchTo, type HostContext } from '../site-support.js';
import { StepRunner } from '../step-runner.js';
import { requireUser } from '../users.js';

/**
 * Switches to a named release that is still on disk (ReleaseNotFound otherwise); undefined or ''
 * (RollbackSite.release unset): the one before current.
 */
export async function rollbackTo(ctx: HostContext, name: string, id: string, wanted: string | undefined, report: StepReporter): Promise<ReleasesResult> {
  const release = wanted === '' ? undefined : wanted;
  await new StepRunner(report, ctx.logger, name).run('validate', 5, () => {
    checkName(name);
    checkId(id);
    if (release !== undefined) checkReleaseName(release);
    return Promise.resolve();
  });
  return ctx.releaseQueue.run(name, async () => {
    const steps = new StepRunner(report, ctx.logger, name);
    const run = <T>(step: StepName, percent: number, fn: () => Promise<T>) => steps.run(step, percent, fn);
    const { paths, owner, current, target } = await run('validate', 5, async () => {
      const paths = sitePaths(ctx.settings, name, id);
      const current = await requireProvisioned(paths, name, id);
      const owner = await requireUser(accountName(id));
      const releases = await listReleases(paths);
      const target = release ?? previousRelease(releases, current);
      if (target === undefined) throw new StepError('validate', 'ReleaseNotFound', `site ${name} has no release before ${current} on this node`);
      if (!releases.includes(target)) throw new StepError('validate', 'ReleaseNotFound', `release ${target} of site ${name} is not on this node (it has ${releases.join(', ')})`);
      return { paths, owner, current, target };
    });
    if (target !== current) {
      await run('health', 40, async () => healthCheck(ctx, paths, await firstDomain(paths), target));
      await run('switch', 80, async () => {
        await switchTo(paths, owner, target, report);
        await purgePageCache(ctx, name, id);
        await report.log('page cache purged');
      });
    }
    return { currentRelease: target, releases: await listReleases(paths) };
  });
}
