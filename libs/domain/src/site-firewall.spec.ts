import { describe, expect, it } from 'vitest';
import { DEFAULT_BLOCKED_NETWORKS, renderSiteFirewall, type SiteFirewallPolicy } from './site-firewall.js';

const policy: SiteFirewallPolicy = { siteUids: [1002, 1001], localPorts: [8081], outboundPorts: [80, 443], blockedNetworks: ['169.254.0.0/16', 'fe80::/10'] };

const siteChain = (script: string): string[] => {
  const lines = script.split('\n').map((line) => line.trim());
  return lines.slice(lines.indexOf('chain site {') + 1, lines.indexOf('chain refuse {') - 1);
};

describe('renderSiteFirewall', () => {
  it('replaces its own table in one transaction and matches only the site uids', () => {
    const script = renderSiteFirewall(policy);
    expect(script.split('\n').slice(0, 3)).toEqual(['table inet pressluft_sites', 'delete table inet pressluft_sites', 'table inet pressluft_sites {']);
    expect(script).toContain('    meta skuid { 1001, 1002 } jump site\n');
    expect(script).toContain('chain refuse {\n    meta l4proto tcp reject with tcp reset\n    reject\n  }');
  });

  it('refuses blocked networks first, then lets DNS, the local web ports and outbound HTTP(S) through, and refuses the rest', () => {
    expect(siteChain(renderSiteFirewall(policy))).toEqual([
      'ct state established,related accept',
      'ip daddr { 169.254.0.0/16 } jump refuse',
      'ip6 daddr { fe80::/10 } jump refuse',
      'meta l4proto { tcp, udp } th dport 53 accept',
      'oifname "lo" tcp dport { 8081 } accept',
      'oifname "lo" jump refuse',
      'tcp dport { 80, 443 } accept',
      'jump refuse',
    ]);
  });

  it.each([
    ['no site: the table holds no match, so nobody is filtered', { siteUids: [] }, (s: string) => !s.includes('meta skuid')],
    ['no local port: nothing on this host but DNS', { localPorts: [] }, (s: string) => !s.includes('oifname "lo" tcp dport')],
    ['no outbound port: nothing leaves but DNS', { outboundPorts: [] }, (s: string) => !/^\s+tcp dport/m.test(s)],
    ['no blocked network: no address rule', { blockedNetworks: [] }, (s: string) => !s.includes('daddr')],
    ['duplicate uids and ports collapse', { siteUids: [1001, 1001], outboundPorts: [443, 443] }, (s: string) => s.includes('{ 1001 }') && s.includes('tcp dport { 443 } accept')],
    ['the default blocked networks include the metadata address range', { blockedNetworks: DEFAULT_BLOCKED_NETWORKS }, (s: string) => s.includes('169.254.0.0/16') && s.includes('fc00::/7')],
  ] as const)('%s', (_name, change, holds) => {
    expect(holds(renderSiteFirewall({ ...policy, ...change }))).toBe(true);
  });

  it.each([
    ['root as a site uid', { siteUids: [0] }, /bad site uid 0/],
    ['a negative uid', { siteUids: [-1] }, /bad site uid/],
    ['a fractional uid', { siteUids: [1.5] }, /bad site uid/],
    ['port 0', { localPorts: [0] }, /bad port 0/],
    ['a port above 65535', { outboundPorts: [65536] }, /bad port 65536/],
    ['a network without prefix length', { blockedNetworks: ['169.254.169.254'] }, /bad network 169.254.169.254/],
    ['a network with rule syntax in it', { blockedNetworks: ['10.0.0.0/8 } accept; {'] }, /bad network/],
    ['an IPv6 prefix too long', { blockedNetworks: ['fe80::/129'] }, /bad network/],
  ] as const)('refuses %s', (_name, change, error) => {
    expect(() => renderSiteFirewall({ ...policy, ...change })).toThrow(error);
  });
});
