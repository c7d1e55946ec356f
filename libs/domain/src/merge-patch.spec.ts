import { describe, expect, it } from 'vitest';
import { applyMergePatch } from './merge-patch.js';

describe('applyMergePatch', () => {
  // RFC 7386, Appendix A: every example, verbatim.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('RFC 7386 example: %j + %j = %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it.each([
    ['sets a nested spec field', { spec: { php: { maxChildren: 5, memoryLimit: '256M' } } }, { spec: { php: { maxChildren: 9 } } }, { spec: { php: { maxChildren: 9, memoryLimit: '256M' } } }],
    ['deletes a label', { metadata: { labels: { a: '1', b: '2' } } }, { metadata: { labels: { a: null } } }, { metadata: { labels: { b: '2' } } }],
    ['replaces the domain list whole', { spec: { domains: ['a.test', 'b.test'] } }, { spec: { domains: ['c.test'] } }, { spec: { domains: ['c.test'] } }],
    ['deleting a missing member is a no-op', { a: 1 }, { b: null }, { a: 1 }],
    ['an empty patch changes nothing', { a: { b: 1 } }, {}, { a: { b: 1 } }],
    ['creates objects on the way', { a: 1 }, { b: { c: { d: 1 } } }, { a: 1, b: { c: { d: 1 } } }],
    ['replaces a scalar with an object', { a: 1 }, { a: { b: 2 } }, { a: { b: 2 } }],
    ['keeps nulls inside arrays', {}, { a: [null, 1] }, { a: [null, 1] }],
    ['a target that is undefined becomes an object', undefined, { a: 1 }, { a: 1 }],
    ['false and 0 are values, not deletions', { a: 1, b: 1 }, { a: false, b: 0 }, { a: false, b: 0 }],
  ])('%s', (_label, target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it('never mutates its inputs and shares no structure with them', () => {
    const target = { a: { b: [1, 2] }, keep: { x: 1 } };
    const patch = { a: { c: { d: [3] } } };
    const before = JSON.stringify([target, patch]);
    const result = applyMergePatch(target, patch) as { a: { b: number[]; c: { d: number[] } }; keep: object };
    expect(JSON.stringify([target, patch])).toBe(before);
    result.a.b.push(9);
    result.a.c.d.push(9);
    expect(target.a.b).toEqual([1, 2]);
    expect(patch.a.c.d).toEqual([3]);
    expect(result.keep).not.toBe(target.keep);
  });

  it('treats a "__proto__" member as data, never as a prototype', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown;
    const result = applyMergePatch({}, patch) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
