import type { HostRestoreRequest, ProvisionResult, ReleasesResult, StepReporter } from '@pressluft/agent-runtime';
import { planSite } from '../naming.js';
import type { HostContext } from '../site-support.js';
import { StepRunner } from '../step-runner.js';
import { provision, verifyServing } from './provision.js';
import { restoreSite } from './restore.js';

/**
 * CloneSite: the new site (request.site) provisioned as ProvisionSite does it but not yet served,
 * then the source's backup restored into it, every part, URLs rewritten from the source's
 * domains to the clone's (restoreSite: staged, health-checked, switched; a staging clone's
 * blog_public set to 0). Its switch renders the site's server block, so nginx serves the clone
 * only once the source's content is in it; the clone's domain must then answer 200 (verify, once,
 * at the end). The source is only read, through its backup: nothing here names its paths or
 * database. A redelivered CloneSite runs again: provisioning is idempotent and the restore is
 * staged (the clone's content is replaced by the backup's again).
 */
export async function cloneSite(ctx: HostContext, request: HostRestoreRequest, report: StepReporter): Promise<ProvisionResult & ReleasesResult> {
  const plan = await new StepRunner(report, ctx.logger, request.site.name).run('validate', 1, () => Promise.resolve(planSite(request.site)));
  const provisioned = await provision(ctx, request.site, report, { serve: false });
  const restored = await restoreSite(ctx, { ...request, parts: [] }, report);
  const domain = plan.domains[0] ?? '';
  await new StepRunner(report, ctx.logger, plan.name).run('verify', 98, () => verifyServing(ctx, plan.name, domain, report));
  return { url: provisioned.url, ...restored };
}
