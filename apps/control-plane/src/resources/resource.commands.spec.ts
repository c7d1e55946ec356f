import { describe, expect, it } from 'vitest';
import { changeOf, mutationCode } from './resource.commands.js';

describe('mutationCode: the status of an accepted mutation, by what happened to the object', () => {
  it.each([
    ['POST', 'ADDED', 201],
    ['PUT', 'ADDED', 201],
    ['PUT', 'MODIFIED', 200],
    ['PUT', 'DELETED', 200],
    ['PATCH', 'MODIFIED', 200],
    ['PATCH', 'DELETED', 200],
    ['DELETE', 'DELETED', 200],
    ['DELETE', 'MODIFIED', 202],
  ] as const)('%s that %s the object answers %i', (verb, change, code) => {
    expect(mutationCode(verb, change)).toBe(code);
  });
});

describe('changeOf: the change a write result stands for', () => {
  it.each([
    [{ created: true, gone: false }, 'ADDED'],
    [{ created: false, gone: true }, 'DELETED'],
    [{ created: false, gone: false }, 'MODIFIED'],
  ] as const)('%o is %s', (result, change) => {
    expect(changeOf(result)).toBe(change);
  });
});
