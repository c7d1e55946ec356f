import type { FenceStore } from '../fence-store.js';
import type { SiteOperations, StepReporter } from '../site-operations.js';
import type { CommandHandler } from './command-handler.js';
import { elapsed } from './site-state.js';

/** Everything of the site goes from the host, then the configuration a restart would converge. */
export async function removeSite(host: SiteOperations, fences: FenceStore, site: string, siteId: string, report: StepReporter): Promise<void> {
  await host.remove(site, siteId, report);
  fences.dropAppliedConfig(site);
}

/** DeleteSite: everything of the site goes; its fence record stays as a tombstone. */
export const deleteSite: CommandHandler<'deleteSite'> = async (_payload, context) => {
  await removeSite(context.host, context.fences, context.ref.site, context.siteId, context.report);
  return { message: `site removed from ${context.node} (${elapsed(context)})`, deleted: true };
};
