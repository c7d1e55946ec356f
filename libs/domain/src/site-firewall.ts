import { z } from 'zod';

/**
 * What a node's sites may reach on the network (docs/adr/0021), enforced by the kernel per
 * socket owner (nftables `meta skuid`): a packet from a socket of a site's uid may go
 *  - to this host (any local address: loopback or the node's own) only on `localPorts` (the
 *    node's nginx: WordPress requests itself for wp-cron and site health) and DNS;
 *  - elsewhere to DNS and `outboundPorts` (HTTP(S), SMTP submission), never into `blockedNetworks` (the cloud
 *    metadata address, private networks where the control plane may live).
 * Everything else is refused at once (TCP reset, ICMP port unreachable). Other users (root, the
 * agent, nginx, the services) are not matched. Unix sockets are files: their permissions, not
 * these rules, close them.
 */
export interface SiteFirewallPolicy {
  readonly siteUids: readonly number[];
  readonly localPorts: readonly number[];
  readonly outboundPorts: readonly number[];
  /** CIDRs (IPv4 or IPv6), e.g. 169.254.0.0/16. */
  readonly blockedNetworks: readonly string[];
}

export const SITE_FIREWALL_TABLE = 'pressluft_sites';

/**
 * Outbound from a site: HTTP(S) (updates, APIs, webhooks) and SMTP submission (465, 587: mail
 * leaves through an SMTP plugin, docs/adr/0018; never port 25), besides DNS which every policy allows.
 */
export const SITE_OUTBOUND_PORTS: readonly number[] = [80, 443, 465, 587];

/** Link-local (cloud metadata at 169.254.169.254), private and shared ranges, IPv6 ULA and link-local. */
export const DEFAULT_BLOCKED_NETWORKS: readonly string[] = [
  '169.254.0.0/16',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
  'fe80::/10',
];

function checkUid(uid: number): number {
  // Site users are normal users; root (0) must never be matched as a site.
  if (!Number.isInteger(uid) || uid < 1 || uid > 0xfffffffe) throw new Error(`site firewall: bad site uid ${uid}`);
  return uid;
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`site firewall: bad port ${port}`);
  return port;
}

const cidrV4 = z.cidrv4();
const cidrV6 = z.cidrv6();

const set = (items: readonly (string | number)[]): string => `{ ${items.join(', ')} }`;
const unique = <T>(items: readonly T[]): T[] => [...new Set(items)];

/**
 * The policy as an `nft -f` script that replaces the table in one transaction (declared, deleted,
 * defined again: atomic, and the same on the first apply as on every later one).
 */
export function renderSiteFirewall(policy: SiteFirewallPolicy): string {
  const uids = unique(policy.siteUids.map(checkUid)).sort((a, b) => a - b);
  const localPorts = unique(policy.localPorts.map(checkPort));
  const outboundPorts = unique(policy.outboundPorts.map(checkPort));
  const v4 = policy.blockedNetworks.filter((cidr) => cidrV4.safeParse(cidr).success);
  const v6 = policy.blockedNetworks.filter((cidr) => cidrV6.safeParse(cidr).success);
  const bad = policy.blockedNetworks.filter((cidr) => !v4.includes(cidr) && !v6.includes(cidr));
  if (bad.length > 0) throw new Error(`site firewall: bad network ${bad.join(', ')}`);

  const site = [
    'ct state established,related accept',
    ...(v4.length > 0 ? [`ip daddr ${set(v4)} jump refuse`] : []),
    ...(v6.length > 0 ? [`ip6 daddr ${set(v6)} jump refuse`] : []),
    'meta l4proto { tcp, udp } th dport 53 accept',
    ...(localPorts.length > 0 ? [`oifname "lo" tcp dport ${set(localPorts)} accept`] : []),
    'oifname "lo" jump refuse',
    ...(outboundPorts.length > 0 ? [`tcp dport ${set(outboundPorts)} accept`] : []),
    'jump refuse',
  ];
  const lines = [
    `table inet ${SITE_FIREWALL_TABLE}`,
    `delete table inet ${SITE_FIREWALL_TABLE}`,
    `table inet ${SITE_FIREWALL_TABLE} {`,
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    ...(uids.length > 0 ? [`    meta skuid ${set(uids)} jump site`] : []),
    '  }',
    '  chain site {',
    ...site.map((rule) => `    ${rule}`),
    '  }',
    '  chain refuse {',
    '    meta l4proto tcp reject with tcp reset',
    '    reject',
    '  }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
