import { failure } from '../failure.js';
import type { RestorePart } from '../site-operations.js';
import type { CommandHandler } from './command-handler.js';
import { elapsed, siteState } from './site-state.js';

/**
 * RestoreSite: staged beside the live site, health-checked, switched (the host's promise: a
 * failure at any step leaves the site serving what it served before). The whole site is
 * fingerprinted afterwards: its database and release are new.
 */
export const restoreSite: CommandHandler<'restoreSite'> = async (payload, context) => {
  const { site, snapshots } = payload;
  if (!site) throw failure('InvalidCommand', 'RestoreSite carries no site');
  if (!snapshots) throw failure('InvalidCommand', 'RestoreSite carries no snapshots');
  const store = await context.stores.access(payload.store, context.ref.id);
  const releases = await context.host.restore({ site, backup: payload.backup, snapshots, sourceDomains: payload.sourceDomains, store, parts: payload.parts.filter(isRestorePart), gitCommit: payload.gitCommit }, context.report);
  const state = await siteState(context, releases, undefined);
  return { message: `backup ${payload.backup} restored: release ${releases.currentRelease} serving (${elapsed(context)})`, site: state };
};

function isRestorePart(part: string): part is RestorePart {
  return part === 'code' || part === 'database' || part === 'uploads';
}
