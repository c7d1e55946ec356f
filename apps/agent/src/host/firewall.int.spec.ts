// The agent's firewall module against a real nft, in a network namespace this test creates:
// the machine's own namespace is never given a rule.
import { randomBytes } from 'node:crypto';
import { createLogger } from '@pressluft/platform';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SITE_FIREWALL_TABLE } from '@pressluft/domain';
import { siteConfig } from '../../test/host-fixtures.js';
import { hostHarness, QUIET } from '../../test/host-harness.js';
import { TestNetns } from '../../test/netns.js';
import { exec } from './exec.js';
import { applySiteFirewall } from './firewall.js';
import { SiteHost } from './site-host.js';
import { lookupUser } from './users.js';

const services = inject('services');

describe('site firewall (nft in a test namespace)', () => {
  let netns: TestNetns;

  beforeAll(async () => {
    netns = await TestNetns.create();
  });

  afterAll(async () => {
    await netns?.destroy();
  });

  const ruleset = async (argv: readonly string[]) => (await exec([...argv, 'list', 'ruleset'])).stdout;

  it("follows the node's sites: a provisioned site's uid is matched, a removed one's no longer", async () => {
    const suffix = randomBytes(3).toString('hex');
    const nft = netns.argv(['/usr/sbin/nft']);
    const harness = hostHarness(services, `pressluft-test-fw-${suffix}`, { firewall: { command: nft, localPorts: [services.nginx.port], blockedNetworks: [] } });
    const host = new SiteHost(harness.settings, createLogger({ name: 'firewall-test', level: 'warn' }));
    const site = siteConfig({ name: `fw-${suffix}`, id: `fw${suffix}`, domains: [`fw-${suffix}.example.test`] });
    try {
      await host.provision(site, QUIET);
      const user = await lookupUser(`site_${site.id}`);
      expect(user).toBeDefined();
      expect(await ruleset(nft)).toMatch(new RegExp(`meta skuid ${user?.uid} jump site`));
      await host.remove(site.name, site.id, QUIET);
      expect(await ruleset(nft)).not.toContain('skuid');
    } finally {
      await host.remove(site.name, site.id, QUIET).catch(() => undefined);
      harness.cleanup();
    }
  }, 120_000);

  it('loads the rules in one transaction, replaces them on every apply, and leaves the machine alone', async () => {
    const nft = netns.argv(['/usr/sbin/nft']);
    const settings = { command: nft, localPorts: [8081], blockedNetworks: ['169.254.0.0/16'] };
    const machineBefore = await ruleset(['/usr/sbin/nft']);

    await applySiteFirewall(settings, [1_970_101, 1_970_102]);
    expect(await ruleset(nft)).toMatch(/meta skuid \{ 1970101, 1970102 \} jump site/);
    await applySiteFirewall(settings, [1_970_103]);
    const replaced = await ruleset(nft);
    expect(replaced).toMatch(/meta skuid 1970103 jump site/);
    expect(replaced).not.toContain('1970101');
    expect(replaced.match(new RegExp(`table inet ${SITE_FIREWALL_TABLE}`, 'g'))).toHaveLength(1);
    await applySiteFirewall(settings, []);
    expect(await ruleset(nft)).not.toContain('skuid');

    expect(await ruleset(['/usr/sbin/nft'])).toBe(machineBefore);
    expect(machineBefore).not.toContain(SITE_FIREWALL_TABLE);
  });

  it("fails with nft's reason when the rules cannot be loaded", async () => {
    const nowhere = ['/usr/sbin/ip', 'netns', 'exec', `${netns.name}-gone`, '/usr/sbin/nft'];
    await expect(applySiteFirewall({ command: nowhere, localPorts: [8081], blockedNetworks: [] }, [1_970_104])).rejects.toThrow(
      /nft refused the site firewall: .*network namespace/,
    );
  });
});
