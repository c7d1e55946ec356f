import { describe, expect, it } from 'vitest';
import { cloneJson, isPlainObject, jsonEqual, utf8Length } from './json.js';

describe('json helpers', () => {
  it.each([
    [{}, true],
    [Object.create(null), true],
    [[], false],
    [null, false],
    ['x', false],
    [new Date(), false],
  ])('isPlainObject(%j) = %s', (value, expected) => expect(isPlainObject(value)).toBe(expected));

  it.each([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [[1, 2], [2, 1], false],
    [{ a: 1 }, { a: 1, b: undefined }, false],
    [{ a: null }, { a: null }, true],
    [1, '1', false],
    [[], {}, false],
    [{}, [], false],
    ['x', 'x', true],
  ])('jsonEqual(%j, %j) = %s', (a, b, expected) => expect(jsonEqual(a, b)).toBe(expected));

  it('clones deeply', () => {
    const value = { a: [{ b: 1 }] };
    const copy = cloneJson(value);
    expect(copy).toEqual(value);
    copy.a[0]!.b = 2;
    expect(value.a[0]!.b).toBe(1);
  });

  it.each([
    ['', 0],
    ['abc', 3],
    ['ü', 2],
    ['€', 3],
    ['😀', 4],
    ['aü€😀', 10],
  ])('utf8Length(%j) = %d', (text, bytes) => expect(utf8Length(text)).toBe(bytes));
});
