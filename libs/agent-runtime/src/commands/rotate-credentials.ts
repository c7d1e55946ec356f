import { fingerprintItemsAfter } from '@pressluft/domain';
import type { CommandHandler } from './command-handler.js';
import { elapsed, releasesOf, siteState } from './site-state.js';

/** RotateCredentials: a new database password on the node; only what it changed is fingerprinted. */
export const rotateCredentials: CommandHandler<'rotateCredentials'> = async (_payload, context) => {
  const { rotatedAt } = await context.host.rotateDatabasePassword(context.ref.site, context.siteId, context.report);
  const site = await siteState(context, await releasesOf(context), fingerprintItemsAfter('rotateCredentials'));
  return { message: `database password of the site rotated at ${rotatedAt} (${elapsed(context)})`, site };
};
