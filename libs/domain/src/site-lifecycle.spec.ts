import { describe, expect, it } from 'vitest';
import { BUSY_PHASES, SITE_PHASES, SITE_TRANSITIONS, busyOperation, canTransition, isSitePhase, type SitePhase } from './site-lifecycle.js';

/** The lifecycle, written out as the full 8x8 matrix so every pair is a deliberate decision. */
const ALLOWED: Record<SitePhase, Partial<Record<SitePhase, true>>> = {
  PENDING: { PROVISIONING: true, CLONING: true, DELETING: true, FAILED: true },
  PROVISIONING: { ACTIVE: true, FAILED: true, DELETING: true },
  ACTIVE: { DEPLOYING: true, CLONING: true, RESTORING: true, DELETING: true, FAILED: true },
  DEPLOYING: { ACTIVE: true, FAILED: true },
  CLONING: { ACTIVE: true, FAILED: true },
  RESTORING: { ACTIVE: true, FAILED: true },
  DELETING: {},
  FAILED: { PROVISIONING: true, DEPLOYING: true, CLONING: true, DELETING: true },
};

const pairs = SITE_PHASES.flatMap((from) => SITE_PHASES.map((to) => [from, to, ALLOWED[from][to] === true] as const));

describe('canTransition', () => {
  it('covers all 64 pairs', () => expect(pairs).toHaveLength(64));

  it.each(pairs)('%s -> %s is %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it.each(SITE_PHASES)('%s never transitions to itself', (phase) => {
    expect(SITE_TRANSITIONS[phase]).not.toContain(phase);
  });

  it('leaves DELETING only by the row going away', () => {
    expect(SITE_TRANSITIONS.DELETING).toEqual([]);
  });

  it.each(SITE_PHASES.filter((p) => p !== 'DELETING'))('can delete a site that is %s or reach DELETING through FAILED', (phase) => {
    expect(canTransition(phase, 'DELETING') || canTransition(phase, 'FAILED')).toBe(true);
  });
});

describe('busy phases', () => {
  it.each([
    ['PENDING', undefined],
    ['PROVISIONING', undefined],
    ['ACTIVE', undefined],
    ['DEPLOYING', 'a deploy'],
    ['CLONING', 'a clone'],
    ['RESTORING', 'a restore'],
    ['DELETING', 'a deletion'],
    ['FAILED', undefined],
  ] as const)('%s -> %s', (phase, operation) => {
    expect(busyOperation(phase)).toBe(operation);
    expect(BUSY_PHASES.includes(phase)).toBe(operation !== undefined);
  });

  it('lists the busy phases in lifecycle order', () => {
    expect(BUSY_PHASES).toEqual(['DEPLOYING', 'CLONING', 'RESTORING', 'DELETING']);
  });
});

describe('isSitePhase', () => {
  it.each([...SITE_PHASES])('accepts %s', (phase) => expect(isSitePhase(phase)).toBe(true));
  it.each(['active', 'RUNNING', '', 1, null])('refuses %j', (value) => expect(isSitePhase(value)).toBe(false));
});
