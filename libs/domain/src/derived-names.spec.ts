import { describe, expect, it } from 'vitest';
import { derivedName } from './derived-names.js';
import { NAME_PATTERN } from './names.js';

describe('derivedName', () => {
  it.each([
    ['a short base keeps its name', 'shop', 'pre-restore', 'shop-pre-restore'],
    ['exactly 40 characters fit', 'a'.repeat(28), 'pre-restore', `${'a'.repeat(28)}-pre-restore`],
  ])('%s', (_label, base, suffix, expected) => {
    expect(derivedName(base, suffix)).toBe(expected);
  });

  const LONG = ['a'.repeat(40), `${'b'.repeat(20)}-${'c'.repeat(19)}`, 'shop-with-a-rather-long-name-of-forty-ch', 'x-'.repeat(19) + 'yz'];
  const SUFFIXES = ['source', 'pre-restore', 'pre-promotion', 'pre-delete-6f1c2a8e', 'clone-6f1c2a8e', '20261207-1015'];
  it.each(LONG.flatMap((base) => SUFFIXES.map((suffix) => [base, suffix] as const)))('%s + %s is a valid name ending in the suffix', (base, suffix) => {
    const name = derivedName(base, suffix);
    expect(name).toMatch(NAME_PATTERN);
    expect(name.endsWith(`-${suffix}`)).toBe(true);
  });

  it('two long bases with a common beginning get different names', () => {
    const a = derivedName(`${'s'.repeat(30)}-one`, 'pre-restore');
    const b = derivedName(`${'s'.repeat(30)}-two`, 'pre-restore');
    expect(a).not.toBe(b);
  });
});
