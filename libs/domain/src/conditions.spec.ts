import { describe, expect, it } from 'vitest';
import { findCondition, setCondition, type Condition } from './conditions.js';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const t1 = new Date('2026-01-01T00:05:00.000Z');

describe('setCondition', () => {
  it('adds a missing condition with the current time', () => {
    const result = setCondition([], { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'creating' }, t0);
    expect(result).toEqual([
      { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'creating', lastTransitionTime: t0.toISOString() },
    ]);
  });

  it('keeps lastTransitionTime when only reason or message change', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'a' }, t0);
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'Deploying', message: 'b' }, t1);
    expect(findCondition(second, 'Ready')).toMatchObject({ reason: 'Deploying', message: 'b', lastTransitionTime: t0.toISOString() });
  });

  it('moves lastTransitionTime when the status changes', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'Provisioning', message: '' }, t0);
    const second = setCondition(first, { type: 'Ready', status: 'True', reason: 'Serving', message: '' }, t1);
    expect(findCondition(second, 'Ready')?.lastTransitionTime).toBe(t1.toISOString());
  });

  it('leaves other conditions and their order alone and does not mutate the input', () => {
    const input: Condition[] = [
      { type: 'Ready', status: 'True', reason: 'Serving', message: '', lastTransitionTime: t0.toISOString() },
      { type: 'Drifted', status: 'False', reason: 'InSync', message: '', lastTransitionTime: t0.toISOString() },
    ];
    const result = setCondition(input, { type: 'Ready', status: 'False', reason: 'Down', message: '' }, t1);
    expect(result.map((c) => c.type)).toEqual(['Ready', 'Drifted']);
    expect(result[1]).toBe(input[1]);
    expect(input[0]?.status).toBe('True');
  });
});
