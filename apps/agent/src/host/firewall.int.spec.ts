// The agent's firewall module against a real nft, in a network namespace this test creates:
// the machine's own namespace is never given a rule.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SITE_FIREWALL_TABLE } from '@pressluft/domain';
import { TestNetns } from '../../test/netns.js';
import { exec } from './exec.js';
import { applySiteFirewall, siteUids } from './firewall.js';
import { accountName } from './naming.js';
import { ensureUser, removeUser } from './users.js';

describe('site firewall (nft in a test namespace)', () => {
  let netns: TestNetns;
  const id = randomBytes(4).toString('hex');

  beforeAll(async () => {
    netns = await TestNetns.create();
  });

  afterAll(async () => {
    await removeUser(accountName(id));
    await netns?.destroy();
  });

  const ruleset = async (argv: readonly string[]) => (await exec([...argv, 'list', 'ruleset'])).stdout;

  it('finds the uids of the sites whose accounts exist', async () => {
    const { uid } = await ensureUser(accountName(id), '/nonexistent', 'pressluft firewall test');
    expect(await siteUids([id, 'zzzzzzzz'])).toEqual([uid]);
  });

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
