import { describe, expect, it } from 'vitest';
import { domainChanges } from './site-domains.js';

describe('domainChanges', () => {
  it.each([
    ['a create claims every domain', [], ['a.test', 'b.test'], { claimed: ['a.test', 'b.test'], released: [] }],
    ['the same list changes nothing', ['a.test', 'b.test'], ['a.test', 'b.test'], undefined],
    ['a reorder changes nothing', ['a.test', 'b.test'], ['b.test', 'a.test'], undefined],
    ['an added domain is claimed', ['a.test'], ['a.test', 'b.test'], { claimed: ['b.test'], released: [] }],
    ['a removed domain is released', ['a.test', 'b.test'], ['b.test'], { claimed: [], released: ['a.test'] }],
    ['a replaced domain is both', ['a.test', 'b.test'], ['a.test', 'c.test'], { claimed: ['c.test'], released: ['b.test'] }],
    ['claims keep the order of the new list', ['a.test'], ['z.test', 'a.test', 'c.test'], { claimed: ['z.test', 'c.test'], released: [] }],
  ] as const)('%s', (_name, before, after, expected) => {
    expect(domainChanges(before, after)).toEqual(expected);
  });
});
