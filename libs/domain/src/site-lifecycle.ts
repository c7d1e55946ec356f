export const SITE_PHASES = ['PENDING', 'PROVISIONING', 'ACTIVE', 'DEPLOYING', 'CLONING', 'RESTORING', 'DELETING', 'FAILED'] as const;
export type SitePhase = (typeof SITE_PHASES)[number];

/**
 * Which phase may follow which. Staying in a phase is not a transition. DELETING is terminal: the
 * row goes away when the finalizers are done, and nothing may resurrect a site being deleted.
 * FAILED may be retried by provisioning again (never provisioned), deploying again (a failed
 * deploy) or cloning again (an operator's retry of a failed clone), or be deleted.
 */
export const SITE_TRANSITIONS: Readonly<Record<SitePhase, readonly SitePhase[]>> = {
  PENDING: ['PROVISIONING', 'CLONING', 'DELETING', 'FAILED'],
  PROVISIONING: ['ACTIVE', 'FAILED', 'DELETING'],
  ACTIVE: ['DEPLOYING', 'CLONING', 'RESTORING', 'DELETING', 'FAILED'],
  DEPLOYING: ['ACTIVE', 'FAILED'],
  CLONING: ['ACTIVE', 'FAILED'],
  RESTORING: ['ACTIVE', 'FAILED'],
  DELETING: [],
  FAILED: ['PROVISIONING', 'DEPLOYING', 'CLONING', 'DELETING'],
};

export function canTransition(from: SitePhase, to: SitePhase): boolean {
  return SITE_TRANSITIONS[from].includes(to);
}

/** Operations the API refuses to overlap (409 Conflict): one mutation per site in flight. */
const BUSY: Partial<Record<SitePhase, string>> = {
  DEPLOYING: 'a deploy',
  CLONING: 'a clone',
  RESTORING: 'a restore',
  DELETING: 'a deletion',
};

export const BUSY_PHASES: readonly SitePhase[] = SITE_PHASES.filter((phase) => BUSY[phase] !== undefined);

/** What the site is busy with, for the 409 message ("site shop is busy with a deploy"), or undefined. */
export function busyOperation(phase: SitePhase): string | undefined {
  return BUSY[phase];
}

export function isSitePhase(value: unknown): value is SitePhase {
  return typeof value === 'string' && (SITE_PHASES as readonly string[]).includes(value);
}
