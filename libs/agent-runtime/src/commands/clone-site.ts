import { failure } from '../failure.js';
import type { CommandHandler } from './command-handler.js';
import { elapsed, siteState } from './site-state.js';

/**
 * CloneSite: the new site is provisioned and the source's backup restored into it (URLs
 * rewritten to the new site's domains). The source is never touched: its backup is the medium,
 * on this node or any other.
 */
export const cloneSite: CommandHandler<'cloneSite'> = async (payload, context) => {
  const restore = payload.restore;
  if (!restore?.site) throw failure('InvalidCommand', 'CloneSite carries no site');
  if (!restore.snapshots) throw failure('InvalidCommand', 'CloneSite carries no snapshots');
  const store = await context.stores.access(restore.store, context.ref.id);
  const result = await context.host.clone(
    { site: restore.site, backup: restore.backup, snapshots: restore.snapshots, sourceDomains: restore.sourceDomains, store, parts: [], gitCommit: restore.gitCommit },
    context.report,
  );
  // From now on the clone is converged like any site (after a restart too) from its own configuration.
  context.fences.saveAppliedConfig(context.ref.site, restore.site);
  const state = await siteState(context, result, undefined);
  return { message: `cloned from backup ${restore.backup}: ${result.url} serving release ${result.currentRelease} (${elapsed(context)})`, site: state };
};
