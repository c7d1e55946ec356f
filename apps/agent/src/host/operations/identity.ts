import type { HostSiteIdentity } from '@pressluft/agent-runtime';
import type { HostContext } from '../site-support.js';

/** The site's current commit and deploy key's public half (reads only; issue 19). */
export function siteIdentity(context: HostContext, name: string, id: string): Promise<HostSiteIdentity> {
  void context;
  void name;
  void id;
  return Promise.resolve({ currentCommit: '', deployPublicKey: '' });
}
