import { renderSiteFirewall, SITE_OUTBOUND_PORTS } from '@pressluft/domain';
import { exec, tail } from './exec.js';
import { accountName } from './naming.js';
import { lookupUser } from './users.js';

/** The node's per-site packet rules (docs/adr/0021): nftables, applied by the agent. */
export interface FirewallSettings {
  /** argv prefix of nft (['/usr/sbin/nft']); a test prefixes `ip netns exec <its namespace>`. */
  readonly command: readonly string[];
  /** Ports of this host a site may reach: the node's nginx (WordPress requests itself). */
  readonly localPorts: readonly number[];
  /** CIDRs no site may reach: cloud metadata, private networks. */
  readonly blockedNetworks: readonly string[];
}

/** The uids of these sites' accounts (a site whose account is gone has nothing to filter). */
export async function siteUids(ids: readonly string[]): Promise<number[]> {
  const users = await Promise.all(ids.map((id) => lookupUser(accountName(id))));
  return users.flatMap((user) => (user ? [user.uid] : []));
}

/** Loads the whole rule set in one nft transaction (read from stdin), replacing the previous one. */
export async function applySiteFirewall(settings: FirewallSettings, uids: readonly number[]): Promise<void> {
  const script = renderSiteFirewall({ siteUids: uids, localPorts: settings.localPorts, outboundPorts: SITE_OUTBOUND_PORTS, blockedNetworks: settings.blockedNetworks });
  const result = await exec([...settings.command, '-f', '-'], { input: script, timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`nft refused the site firewall: ${tail(result.stderr)}`);
}
