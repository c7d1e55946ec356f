import { describe, expect, it } from 'vitest';
import { appliedFingerprints, compareFingerprints, driftFindings, wellFormedFingerprints, type DriftObservation, type Fingerprints } from './drift.js';

const d = (c: string) => c.repeat(64);
const APPLIED: Fingerprints = {
  'nginx.serverBlock': d('a'),
  'phpFpm.config': d('b'),
  wpConfig: d('c'),
  'symlink.current': d('d'),
  'user.uid': d('e'),
  'database.present': d('f'),
  'database.user': d('1'),
  'database.grants': d('2'),
};
const without = (key: string): Fingerprints => Object.fromEntries(Object.entries(APPLIED).filter(([k]) => k !== key));

describe('compareFingerprints', () => {
  const cases: Array<[string, Fingerprints, string[]]> = [
    ['the same fingerprints: no drift', { ...APPLIED }, []],
    ['an edited server block', { ...APPLIED, 'nginx.serverBlock': d('0') }, ['nginx server block differs']],
    ['changed grants (plural wording)', { ...APPLIED, 'database.grants': d('0') }, ['database grants differ']],
    ['a removed PHP-FPM configuration', without('phpFpm.config'), ['PHP-FPM configuration is missing']],
    ['missing grants', without('database.grants'), ['database grants are missing']],
    ['an item that was not applied', { ...APPLIED, 'cron.file': d('3') }, ['cron.file is present but was not applied']],
    [
      'several at once, in the order of the known items, unknown items last',
      { ...without('wpConfig'), 'zz.item': d('3'), 'database.user': d('0'), 'nginx.serverBlock': d('0') },
      ['nginx server block differs', 'wp-config.php is missing', 'database user differs', 'zz.item is present but was not applied'],
    ],
    ['nothing observed at all', {}, ['nginx server block is missing', 'PHP-FPM configuration is missing', 'wp-config.php is missing', 'the current symlink is missing', 'Linux user (UID or site tree owner) is missing', 'database is missing', 'database user is missing', 'database grants are missing']],
  ];
  it.each(cases)('%s', (_name, observed, lines) => {
    expect(compareFingerprints(APPLIED, observed)).toEqual(lines);
  });

  it('never shows a digest', () => {
    const lines = compareFingerprints(APPLIED, { ...APPLIED, wpConfig: d('9') });
    expect(lines).toEqual(['wp-config.php differs']);
    expect(lines.join()).not.toMatch(/[0-9a-f]{16}/);
  });
});

describe('wellFormedFingerprints', () => {
  it('keeps item keys with sha256 hex digests and drops anything else', () => {
    expect(
      wellFormedFingerprints({
        'nginx.serverBlock': d('a'),
        wpConfig: d('A'),
        'bad key': d('a'),
        '.x': d('a'),
        'database.grants': 'short',
        'a.b.c.d.e': d('a'),
      }),
    ).toEqual({ 'nginx.serverBlock': d('a') });
  });

  it('caps the number of items', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`item.n${String(i).padStart(3, '0')}`, d('a')]));
    expect(Object.keys(wellFormedFingerprints(many))).toHaveLength(64);
  });
});

describe('appliedFingerprints', () => {
  const cases: Array<[string, Fingerprints | undefined, Fingerprints, boolean, Fingerprints | undefined]> = [
    ['a complete set replaces what was expected', { 'old.item': d('0') }, APPLIED, true, APPLIED],
    ['a complete set is the first expectation', undefined, APPLIED, true, APPLIED],
    ['an empty complete set (the node could not fingerprint) expects nothing', APPLIED, {}, true, undefined],
    ['a partial set updates only its items', APPLIED, { 'symlink.current': d('0') }, false, { ...APPLIED, 'symlink.current': d('0') }],
    ['a partial set without an expectation expects nothing yet', undefined, { 'symlink.current': d('0') }, false, undefined],
    ['no fingerprints at all (an older agent) leave the expectation as it was', APPLIED, {}, false, APPLIED],
  ];
  it.each(cases)('%s', (_name, before, sent, complete, expected) => {
    expect(appliedFingerprints(before, sent, complete)).toEqual(expected);
  });
});

describe('driftFindings', () => {
  const base: DriftObservation = { phase: 'ACTIVE', fence: 3, latestCommandState: 'SUCCEEDED', nodeFence: 3, expected: APPLIED, observed: { ...APPLIED, 'nginx.serverBlock': d('0') } };
  const cases: Array<[string, Partial<DriftObservation>, string[] | undefined]> = [
    ['an ACTIVE site with nothing in flight is compared', {}, ['nginx server block differs']],
    ['a clean site has no findings', { observed: APPLIED }, []],
    ['after a failed command the site is still compared (if ACTIVE)', { latestCommandState: 'FAILED' }, ['nginx server block differs']],
    ['no verdict while a command is running', { latestCommandState: 'RUNNING' }, undefined],
    ['no verdict while a command waits in the outbox', { latestCommandState: 'PENDING' }, undefined],
    ['no verdict while a command is stalled (it may still run)', { latestCommandState: 'STALLED' }, undefined],
    ['no verdict while the node has not seen the newest command', { nodeFence: 2 }, undefined],
    ['no verdict for a site that is not ACTIVE', { phase: 'DEPLOYING' }, undefined],
    ['no verdict for a FAILED site', { phase: 'FAILED' }, undefined],
    ['no verdict before any converge reported fingerprints', { expected: undefined }, undefined],
  ];
  it.each(cases)('%s', (_name, change, findings) => {
    expect(driftFindings({ ...base, ...change })).toEqual(findings);
  });
});
