import { fingerprintItemsAfter } from '@pressluft/domain';
import type { CommandHandler } from './command-handler.js';
import { releasesOf, siteState } from './site-state.js';

/** CheckDrift: the node only looks; the control plane compares with what it expects. */
export const checkDrift: CommandHandler<'checkDrift'> = async (_payload, context) => {
  const site = await siteState(context, await releasesOf(context), fingerprintItemsAfter('checkDrift'));
  return { message: `${Object.keys(site.fingerprints).length} items fingerprinted`, site };
};
