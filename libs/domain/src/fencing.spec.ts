import { describe, expect, it } from 'vitest';
import { compareFence } from './fencing.js';

describe('compareFence', () => {
  it.each([
    [1, undefined, 'apply'],
    [5, 4, 'apply'],
    [4, 4, 'duplicate'],
    [3, 4, 'stale'],
    [0, undefined, 'stale'],
    [-1, undefined, 'stale'],
    [1.5, undefined, 'stale'],
    [Number.NaN, 1, 'stale'],
  ] as const)('fence %d against highest %s -> %s', (fence, highest, verdict) => {
    expect(compareFence(fence, highest)).toBe(verdict);
  });
});
