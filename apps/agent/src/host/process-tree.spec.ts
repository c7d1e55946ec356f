import { describe, expect, it } from 'vitest';
import { parentOf } from './process-tree.js';

describe('parentOf', () => {
  it.each([
    ['a plain command', '4242 (git) S 4200 4242 4200 0 -1', 4200],
    ['a name with spaces and parentheses', '77 (evil ) S 1 (x) R 9) S 31 77 31 0 -1', 31],
    ['a truncated line', '5 (x)', undefined],
  ] as const)('%s', (_, stat, parent) => {
    expect(parentOf(stat)).toBe(parent);
  });
});
