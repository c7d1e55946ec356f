import { describe, expect, it } from 'vitest';
import { domainChanges, domainRewrites } from './site-domains.js';

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

describe('domainRewrites', () => {
  it.each([
    ['one domain to another', ['a.test'], ['b.test'], [{ from: 'a.test', to: 'b.test' }]],
    ['the same domains: nothing', ['a.test', 'www.a.test'], ['a.test', 'www.a.test'], []],
    ['the list mapped one to one', ['a.test', 'www.a.test'], ['b.test', 'www.b.test'], [{ from: 'a.test', to: 'b.test' }, { from: 'www.a.test', to: 'www.b.test' }]],
    ['a target with fewer domains: the rest to its first', ['a.test', 'www.a.test', 'shop.a.test'], ['b.test'], [{ from: 'a.test', to: 'b.test' }, { from: 'www.a.test', to: 'b.test' }, { from: 'shop.a.test', to: 'b.test' }]],
    ['a target with more domains: only the source\'s are rewritten', ['a.test'], ['b.test', 'www.b.test'], [{ from: 'a.test', to: 'b.test' }]],
    ['a pair that is equal is left out', ['a.test', 'www.b.test'], ['b.test', 'www.b.test'], [{ from: 'a.test', to: 'b.test' }]],
    ['a source repeated once', ['a.test', 'a.test'], ['b.test', 'c.test'], [{ from: 'a.test', to: 'b.test' }]],
    ['no target domains: nothing', ['a.test'], [], []],
    ['no source domains: nothing', [], ['b.test'], []],
  ])('%s', (_label, source, target, expected) => {
    expect(domainRewrites(source, target)).toEqual(expected);
  });
});
