import type { HostSiteIdentity } from '@pressluft/agent-runtime';
import { deployPublicKey } from '../deploy-key.js';
import { sitePaths } from '../naming.js';
import { releaseCommit } from '../release-commits.js';
import { currentRelease } from '../releases.js';
import type { HostContext } from '../site-support.js';

/** The commit the site's current release was built from, and its deploy key's public half (reads only). */
export async function siteIdentity(context: HostContext, name: string, id: string): Promise<HostSiteIdentity> {
  const paths = sitePaths(context.settings, name, id);
  const [currentCommit, deployPublic] = await Promise.all([currentRelease(paths).then((release) => releaseCommit(paths, release)), deployPublicKey(paths)]);
  return { currentCommit, deployPublicKey: deployPublic };
}
