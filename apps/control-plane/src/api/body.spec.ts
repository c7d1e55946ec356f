import { describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH, measure } from './body.js';

/** `levels` objects nested in one another under `spec`, the innermost holding 1. */
const nested = (levels: number): unknown => JSON.parse(`{"spec":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`);

describe('measure', () => {
  it.each([
    ['a scalar', 'x', undefined, 0],
    ['an empty object', {}, undefined, 0],
    ['nested members, arrays counted through', { a: 1, b: { c: 2, d: [{ e: 3 }, 4] } }, undefined, 5],
    ['as deep as allowed', nested(MAX_BODY_DEPTH - 1), undefined, MAX_BODY_DEPTH],
    // Refused: the walk stops there, what it counted so far means nothing.
    ['one level deeper', nested(MAX_BODY_DEPTH), ['spec', 'a'], expect.any(Number)],
    ['arrays too deep', JSON.parse(`${'['.repeat(MAX_BODY_DEPTH + 1)}${']'.repeat(MAX_BODY_DEPTH + 1)}`), [0, 0], expect.any(Number)],
  ])('%s', (_, value, tooDeepUnder, members: unknown) => {
    expect(measure(value)).toEqual({ tooDeepUnder, members });
  });
});
