import type { CommandHandler } from './command-handler.js';
import { elapsed } from './site-state.js';

/** DeleteSite: everything of the site goes; its fence record stays as a tombstone. */
export const deleteSite: CommandHandler<'deleteSite'> = async (_payload, context) => {
  await context.host.remove(context.ref.site, context.siteId, context.report);
  context.fences.dropAppliedConfig(context.ref.site);
  return { message: `site removed from ${context.node} (${elapsed(context)})`, deleted: true };
};
