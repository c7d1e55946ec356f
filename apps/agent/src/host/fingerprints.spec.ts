import { describe, expect, it } from 'vitest';
import { FINGERPRINT_ITEMS, FINGERPRINT_KEYS, pickItems } from '@pressluft/domain';
import { fingerprintsOf, normalizeGrants, sha256, type SiteFacts } from './fingerprints.js';

const usage = (hash: string) => `GRANT USAGE ON *.* TO \`site_ab12cd34\`@\`localhost\` IDENTIFIED VIA unix_socket OR mysql_native_password USING '${hash}'`;
const own = 'GRANT ALL PRIVILEGES ON `site_ab12cd34`.* TO `site_ab12cd34`@`localhost`';

const FACTS: SiteFacts = {
  serverBlock: 'server { listen 80; }\n',
  fpmConfig: '[global]\n',
  wpConfig: { content: "<?php define('DB_PASSWORD', 's3cret-password');\n", mode: 0o100640, uid: 0, gid: 1001 },
  currentTarget: 'releases/20261129T181500Z',
  user: { uid: 1001, treeUid: 1001 },
  database: true,
  databaseUser: true,
  grants: [usage('*HASH1'), own].join('\n'),
  redisUser: 'flags on\ncommands "-@all +get"\nkeys "~site_ab12cd34:*"\nchannels ""\nselectors []',
};

describe('fingerprintsOf', () => {
  it('fingerprints every managed item with a sha256 hex digest', () => {
    const prints = fingerprintsOf(FACTS);
    expect(Object.keys(prints).sort()).toEqual(Object.values(FINGERPRINT_KEYS).sort());
    for (const digest of Object.values(prints)) expect(digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses the item keys the control plane has labels for', () => {
    expect(Object.values(FINGERPRINT_KEYS).sort()).toEqual(FINGERPRINT_ITEMS.map((item) => item.key).sort());
  });

  it('is stable: the same facts give the same fingerprints', () => {
    expect(fingerprintsOf({ ...FACTS })).toEqual(fingerprintsOf(FACTS));
  });

  const changes: Array<[string, Partial<SiteFacts>, string]> = [
    ['an edited server block', { serverBlock: 'server { listen 81; }\n' }, FINGERPRINT_KEYS.serverBlock],
    ['an edited PHP-FPM configuration', { fpmConfig: '[global]\n; edited\n' }, FINGERPRINT_KEYS.fpmConfig],
    ['wp-config.php made world-readable', { wpConfig: { ...(FACTS.wpConfig as NonNullable<SiteFacts['wpConfig']>), mode: 0o100644 } }, FINGERPRINT_KEYS.wpConfig],
    ['wp-config.php edited', { wpConfig: { ...(FACTS.wpConfig as NonNullable<SiteFacts['wpConfig']>), content: '<?php\n' } }, FINGERPRINT_KEYS.wpConfig],
    ['current pointing elsewhere', { currentTarget: 'releases/20261129T190000Z' }, FINGERPRINT_KEYS.current],
    ['the site tree chowned', { user: { uid: 1001, treeUid: 0 } }, FINGERPRINT_KEYS.user],
    ['a Redis user reaching every key', { redisUser: 'flags on\ncommands "-@all +get"\nkeys "~*"\nchannels ""\nselectors []' }, FINGERPRINT_KEYS.redisUser],
    ['an extra grant', { grants: [usage('*HASH1'), own, 'GRANT SELECT ON `site_zz99zz99`.* TO `site_ab12cd34`@`localhost`'].join('\n') }, FINGERPRINT_KEYS.grants],
  ];
  it.each(changes)('%s changes only its own item', (_name, change, key) => {
    const [before, after] = [fingerprintsOf(FACTS), fingerprintsOf({ ...FACTS, ...change })];
    const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
    expect(changed).toEqual([key]);
  });

  it('leaves absent things out', () => {
    const prints = fingerprintsOf({ database: false, databaseUser: false });
    expect(prints).toEqual({});
    expect(Object.keys(fingerprintsOf({ ...FACTS, databaseUser: false }))).not.toContain(FINGERPRINT_KEYS.grants);
  });

  it('never carries content, only digests (wp-config.php holds secrets)', () => {
    const text = JSON.stringify(fingerprintsOf(FACTS));
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain(sha256(FACTS.wpConfig?.content ?? ''));
  });
});

describe('normalizeGrants', () => {
  it('ignores the authentication part (a rotation changes the hash, not the grants)', () => {
    expect(normalizeGrants([usage('*HASH1'), own].join('\n'))).toBe(normalizeGrants([own, usage('*HASH2')].join('\n')));
    expect(normalizeGrants(usage('*HASH1'))).not.toContain('HASH');
  });

  it('keeps privileges, objects and the grant option, sorted', () => {
    const text = [usage('*H'), own, 'GRANT SELECT ON `other`.* TO `site_ab12cd34`@`localhost` WITH GRANT OPTION', 'GRANT `admin_role` TO `site_ab12cd34`@`localhost`'].join('\n');
    expect(normalizeGrants(text)).toBe(['ALL PRIVILEGES ON `site_ab12cd34`.*', 'ROLE `admin_role`', 'SELECT ON `other`.* WITH GRANT OPTION', 'USAGE ON *.*'].join('\n'));
  });
});

describe('pickItems', () => {
  it('keeps only the named items', () => {
    expect(pickItems({ a: '1', b: '2', c: '3' }, ['a', 'c', 'x'])).toEqual({ a: '1', c: '3' });
  });
});
