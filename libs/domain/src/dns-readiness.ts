import { findCondition, setCondition, type Condition } from './conditions.js';
import { jsonEqual } from './json.js';
import type { DnsStatus } from './site.js';

/** One domain's A and AAAA lookup; `error`: the resolver failed (a timeout, SERVFAIL), not "no such name". */
export interface DomainLookup {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly error?: string;
}

export const DNS_READY = 'DNSReady';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** How often a ready site is looked at again (and status.dns.checkedAt refreshed at most). */
export const DNS_READY_RECHECK_MS = 10 * MINUTE;
const NOT_READY_FIRST_MS = 30 * SECOND;
const NOT_READY_MAX_MS = 5 * MINUTE;

/** What a DNS readiness pass decides: the status to write (undefined: nothing to write) and when to look again. */
export interface DnsDecision {
  readonly write: { readonly dns: DnsStatus; readonly conditions: Condition[] } | undefined;
  readonly requeueAfterMs: number;
}

/**
 * A domain is ready when it resolves to at least one address and every address it resolves to is
 * an expected one (the node's): a record left pointing elsewhere splits the traffic (and an ACME
 * http-01 validation may reach the other address), so it is not ready either.
 */
export function domainReady(lookup: DomainLookup, expected: readonly string[]): boolean {
  return lookup.error === undefined && lookup.addresses.length > 0 && lookup.addresses.every((address) => expected.includes(address));
}

/** The DNSReady condition for these lookups: Resolved, NoNodeAddress, NotPointingAtNode or LookupFailed. */
export function dnsReadyCondition(expected: readonly string[], lookups: readonly DomainLookup[]): Omit<Condition, 'lastTransitionTime'> {
  if (expected.length === 0) {
    return { type: DNS_READY, status: 'False', reason: 'NoNodeAddress', message: 'the node has no public address yet (its agent reports it; a static node also has spec.address)' };
  }
  const wrong = lookups.filter((lookup) => lookup.error === undefined && !domainReady(lookup, expected));
  if (wrong.length > 0) {
    const where = wrong.map((lookup) => `${lookup.name} (now ${lookup.addresses.length > 0 ? lookup.addresses.join(', ') : 'no A/AAAA record'})`).join('; ');
    return { type: DNS_READY, status: 'False', reason: 'NotPointingAtNode', message: `must point only at ${expected.join(', ')}: ${where}` };
  }
  const failed = lookups.filter((lookup) => lookup.error !== undefined);
  if (failed.length > 0) {
    return { type: DNS_READY, status: 'False', reason: 'LookupFailed', message: `the lookup failed: ${failed.map((lookup) => `${lookup.name}: ${lookup.error ?? ''}`).join('; ')}` };
  }
  return { type: DNS_READY, status: 'True', reason: 'Resolved', message: `every domain points at ${expected.join(', ')}` };
}

/**
 * One pass: status.dns and DNSReady from the lookups, written only when something other than
 * checkedAt changed or checkedAt is older than DNS_READY_RECHECK_MS. Ready: looked at again in 10
 * minutes; not ready: after as long as it has not been ready (30 s at first, 5 minutes at most).
 */
export function decideDns(
  current: { readonly dns?: DnsStatus | undefined; readonly conditions: readonly Condition[] },
  expected: readonly string[],
  lookups: readonly DomainLookup[],
  now: Date,
): DnsDecision {
  const dns: DnsStatus = {
    expected: [...expected],
    domains: lookups.map((lookup) => ({
      name: lookup.name,
      addresses: [...lookup.addresses],
      ready: domainReady(lookup, expected),
      ...(lookup.error === undefined ? {} : { error: lookup.error.slice(0, 256) }),
    })),
    checkedAt: now.toISOString(),
  };
  const condition = dnsReadyCondition(expected, lookups);
  const conditions = setCondition(current.conditions, condition, now);
  const before = findCondition(current.conditions, DNS_READY);
  const conditionChanged = !before || before.status !== condition.status || before.reason !== condition.reason || before.message !== condition.message;
  const stale = !current.dns || now.getTime() - Date.parse(current.dns.checkedAt) >= DNS_READY_RECHECK_MS;
  const changed = conditionChanged || !current.dns || !jsonEqual({ ...current.dns, checkedAt: '' }, { ...dns, checkedAt: '' });
  const write = changed || stale ? { dns, conditions } : undefined;
  if (condition.status === 'True') return { write, requeueAfterMs: DNS_READY_RECHECK_MS };
  const since = Date.parse(findCondition(conditions, DNS_READY)?.lastTransitionTime ?? now.toISOString());
  return { write, requeueAfterMs: Math.min(NOT_READY_MAX_MS, Math.max(NOT_READY_FIRST_MS, now.getTime() - since)) };
}

/** Where a node's sites must point: its reported public addresses and a static node's spec.address. */
export function nodeAddresses(node: { readonly spec: { readonly address?: string | undefined }; readonly status: { readonly addresses?: readonly string[] | undefined } }): string[] {
  const all = [...(node.status.addresses ?? []), ...(node.spec.address ? [node.spec.address] : [])];
  return [...new Set(all)];
}
