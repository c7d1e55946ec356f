import { pickItems } from '@pressluft/domain';
import type { SiteState } from '@pressluft/proto';
import { asFailure } from '../failure.js';
import type { ReleasesResult } from '../site-operations.js';
import type { CommandContext } from './command-handler.js';

/**
 * The site after a command: its releases and fingerprints. `items`: only those (a partial
 * converge); undefined: all of them. A fingerprinting failure sends a complete empty set, which
 * makes the control plane expect nothing rather than something stale.
 */
export async function siteState(context: CommandContext, releases: ReleasesResult | undefined, items: readonly string[] | undefined): Promise<SiteState> {
  const { host, ref, siteId, logger } = context;
  const all = await host.fingerprints(ref.site, siteId).catch((error: unknown) => {
    logger.warn({ site: ref.site, reason: asFailure(error).reason, msg: asFailure(error).message }, 'agent: fingerprinting the site failed');
    return undefined;
  });
  const fingerprints = all === undefined ? {} : items ? pickItems(all, items) : all;
  const identity = await host.identity(ref.site, siteId).catch(() => ({ currentCommit: '', deployPublicKey: '' }));
  return { currentRelease: releases?.currentRelease ?? '', releases: releases?.releases ?? [], fingerprints, fingerprintsComplete: all === undefined || items === undefined, ...identity };
}

/** The site's releases on the node; undefined when `current` does not resolve. */
export async function releasesOf(context: CommandContext): Promise<ReleasesResult | undefined> {
  const { current, releases } = await context.host.releases(context.ref.site);
  return current ? { currentRelease: current, releases } : undefined;
}

export function elapsed(context: CommandContext): string {
  return `${Date.now() - context.started} ms`;
}
