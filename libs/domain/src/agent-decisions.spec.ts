import { describe, expect, it } from 'vitest';
import { convergeSteps, fingerprintItemsAfter, needsRelease, pickItems, releaseSourceChanged, ROLLBACK_ITEMS, ROTATION_ITEMS, type ReleaseSource } from './agent-decisions.js';
import { FINGERPRINT_ITEMS } from './drift.js';

const source = (extra: Partial<ReleaseSource> = {}): ReleaseSource => ({ wordpressVersion: '6.4', gitUrl: 'https://git.example/site.git', gitRef: 'main', ...extra });
const noCode: ReleaseSource = { wordpressVersion: '6.4', gitUrl: undefined, gitRef: undefined };

describe('releaseSourceChanged', () => {
  it.each([
    ['nothing applied before', undefined, source(), false],
    ['the same source', source(), source(), false],
    ['another WordPress version', source(), source({ wordpressVersion: '6.5' }), true],
    ['another git url', source(), source({ gitUrl: 'https://git.example/other.git' }), true],
    ['another git ref', source(), source({ gitRef: 'v2' }), true],
    ['code added', noCode, source(), true],
    ['code removed', source(), noCode, true],
  ] as const)('%s -> %s', (_name, before, after, changed) => {
    expect(releaseSourceChanged(before, after)).toBe(changed);
  });
});

describe('needsRelease and convergeSteps', () => {
  it.each([
    ['first provision with code', 'provision', undefined, source(), true],
    ['first provision without code', 'provision', undefined, noCode, false],
    ['first provision with an empty git url', 'provision', undefined, source({ gitUrl: '' }), false],
    ['re-provision, nothing changed', 'provision', source(), source(), false],
    ['re-provision, new ref', 'provision', source(), source({ gitRef: 'v2' }), true],
    ['deploy, nothing of the source changed', 'deploy', source(), source(), false],
    ['deploy, new ref', 'deploy', source(), source({ gitRef: 'v2' }), true],
    ['deploy, new WordPress version', 'deploy', noCode, { ...noCode, wordpressVersion: '6.5' }, true],
    ['deploy with nothing applied before (code or not)', 'deploy', undefined, source(), false],
  ] as const)('%s -> %s', (_name, command, before, after, release) => {
    expect(needsRelease(command, before, after)).toBe(release);
    expect(convergeSteps(command, before, after)).toEqual(release ? ['configure', 'release'] : ['configure']);
  });
});

describe('fingerprintItemsAfter', () => {
  it.each([
    ['converge', undefined],
    ['checkDrift', undefined],
    ['rollback', ['symlink.current']],
    ['rotateCredentials', ['wpConfig', 'database.user', 'database.grants']],
  ] as const)('%s sends %j', (operation, items) => {
    expect(fingerprintItemsAfter(operation)).toEqual(items);
  });

  it('names only items the control plane knows', () => {
    const known = FINGERPRINT_ITEMS.map((item) => item.key);
    for (const key of [...ROLLBACK_ITEMS, ...ROTATION_ITEMS]) expect(known).toContain(key);
  });

  it.each([
    [{ a: '1', b: '2' }, ['a'], { a: '1' }],
    [{ a: '1' }, ['x'], {}],
    [{}, ['a'], {}],
  ])('pickItems(%j, %j) -> %j', (all, items, picked) => {
    expect(pickItems(all, items)).toEqual(picked);
  });
});
