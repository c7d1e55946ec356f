import { fingerprintItemsAfter } from '@pressluft/domain';
import type { CommandHandler } from './command-handler.js';
import { elapsed, siteState } from './site-state.js';

/** RollbackSite: switch back to a release still on the node (the one before current when unnamed). */
export const rollback: CommandHandler<'rollbackSite'> = async (payload, context) => {
  const releases = await context.host.rollbackTo(context.ref.site, context.siteId, payload.release || undefined, context.report);
  const site = await siteState(context, releases, fingerprintItemsAfter('rollback'));
  return { message: `site serves release ${releases.currentRelease} again (${elapsed(context)})`, site };
};
