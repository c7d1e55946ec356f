import type { CommandHandler } from './command-handler.js';
import { elapsed } from './site-state.js';

/**
 * BackupSite: the store's credentials come over the agent's mutual-TLS channel for this command
 * (never on the bus), then the host backs the site up. A backup only reads: the site keeps serving.
 */
export const backupSite: CommandHandler<'backupSite'> = async (payload, context) => {
  const store = await context.stores.access(payload.store, context.ref.id);
  const backup = await context.host.backup({ name: context.ref.site, id: context.siteId, backup: payload.backup, store }, context.report);
  const parts = Object.entries(backup.snapshots ?? {}).filter(([, id]) => id !== '').length;
  return { message: `backup ${payload.backup}: ${parts} snapshots, ${backup.bytesAdded} bytes added (${elapsed(context)})`, backup };
};
