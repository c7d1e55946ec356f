import type { HostContext } from './site-support.js';

/** Empties the site's page cache (contract placeholder: the page cache is being built). */
export function purgePageCache(_ctx: HostContext, _name: string, _id: string): Promise<void> {
  return Promise.resolve();
}
