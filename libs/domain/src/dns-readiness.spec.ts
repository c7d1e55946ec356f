import { describe, expect, it } from 'vitest';
import type { Condition } from './conditions.js';
import { decideDns, dnsReadyCondition, nodeAddresses, type DomainLookup } from './dns-readiness.js';
import type { DnsStatus } from './site.js';

const NODE = '203.0.113.10';
const V6 = '2001:db8::10';
const at = (iso: string) => new Date(iso);
const ok = (name: string, ...addresses: string[]): DomainLookup => ({ name, addresses });

describe('dnsReadyCondition', () => {
  it.each<[string, string[], DomainLookup[], string, string, string | undefined]>([
    ['every domain at the node', [NODE], [ok('a.example.test', NODE), ok('b.example.test', NODE)], 'True', 'Resolved', undefined],
    ['A and AAAA both at the node', [NODE, V6], [ok('a.example.test', NODE, V6)], 'True', 'Resolved', undefined],
    ['one of the node addresses is enough', [NODE, V6], [ok('a.example.test', V6)], 'True', 'Resolved', undefined],
    ['a domain elsewhere', [NODE], [ok('a.example.test', NODE), ok('b.example.test', '198.51.100.7')], 'False', 'NotPointingAtNode', `must point only at ${NODE}: b.example.test (now 198.51.100.7)`],
    ['a domain also elsewhere (split traffic)', [NODE], [ok('a.example.test', NODE, '198.51.100.7')], 'False', 'NotPointingAtNode', `must point only at ${NODE}: a.example.test (now ${NODE}, 198.51.100.7)`],
    ['a domain without records', [NODE], [ok('a.example.test')], 'False', 'NotPointingAtNode', `must point only at ${NODE}: a.example.test (now no A/AAAA record)`],
    ['no node address', [], [ok('a.example.test', NODE)], 'False', 'NoNodeAddress', undefined],
    ['a lookup failed', [NODE], [ok('a.example.test', NODE), { name: 'b.example.test', addresses: [], error: 'queryA ETIMEOUT' }], 'False', 'LookupFailed', 'the lookup failed: b.example.test: queryA ETIMEOUT'],
    [
      'a wrong domain outweighs a failed lookup',
      [NODE],
      [ok('a.example.test', '198.51.100.7'), { name: 'b.example.test', addresses: [], error: 'ETIMEOUT' }],
      'False',
      'NotPointingAtNode',
      `must point only at ${NODE}: a.example.test (now 198.51.100.7)`,
    ],
  ])('%s', (_case, expected, lookups, status, reason, message) => {
    const condition = dnsReadyCondition(expected, lookups);
    expect(condition).toMatchObject({ type: 'DNSReady', status, reason });
    if (message) expect(condition.message).toBe(message);
  });
});

describe('decideDns', () => {
  const now = at('2026-12-07T10:00:00.000Z');
  const lookups = [ok('a.example.test', NODE)];
  const dns = (checkedAt: string, domains: DnsStatus['domains'] = [{ name: 'a.example.test', addresses: [NODE], ready: true }]): DnsStatus => ({ expected: [NODE], domains, checkedAt });
  const condition = (status: 'True' | 'False', reason: string, message: string, lastTransitionTime: string): Condition => ({ type: 'DNSReady', status, reason, message, lastTransitionTime });
  const ready = condition('True', 'Resolved', `every domain points at ${NODE}`, '2026-12-07T09:00:00.000Z');

  it('writes the first result and looks again in 10 minutes when ready', () => {
    const decision = decideDns({ conditions: [] }, [NODE], lookups, now);
    expect(decision.write?.dns).toEqual(dns(now.toISOString()));
    expect(decision.write?.conditions).toEqual([{ ...ready, lastTransitionTime: now.toISOString() }]);
    expect(decision.requeueAfterMs).toBe(600_000);
  });

  it.each<[string, string, boolean]>([
    ['nothing changed and checkedAt is fresh: no write', '2026-12-07T09:55:00.000Z', false],
    ['nothing changed but checkedAt is 10 minutes old: a write', '2026-12-07T09:50:00.000Z', true],
  ])('%s', (_case, checkedAt, writes) => {
    const decision = decideDns({ dns: dns(checkedAt), conditions: [ready] }, [NODE], lookups, now);
    expect(decision.write !== undefined).toBe(writes);
    if (decision.write) expect(decision.write.conditions).toEqual([ready]);
  });

  it('writes at once when a domain moved, keeping the condition transition truthful', () => {
    const decision = decideDns({ dns: dns('2026-12-07T09:59:00.000Z'), conditions: [ready] }, [NODE], [ok('a.example.test', '198.51.100.7')], now);
    expect(decision.write?.dns.domains).toEqual([{ name: 'a.example.test', addresses: ['198.51.100.7'], ready: false }]);
    expect(decision.write?.conditions[0]).toMatchObject({ status: 'False', reason: 'NotPointingAtNode', lastTransitionTime: now.toISOString() });
    expect(decision.requeueAfterMs).toBe(30_000);
  });

  it('writes at once when the expected addresses changed', () => {
    const decision = decideDns({ dns: dns('2026-12-07T09:59:00.000Z'), conditions: [ready] }, [NODE, V6], lookups, now);
    expect(decision.write?.dns.expected).toEqual([NODE, V6]);
  });

  it.each<[string, string, number]>([
    ['just turned not ready: 30 s', '2026-12-07T10:00:00.000Z', 30_000],
    ['not ready for 2 minutes: 2 minutes', '2026-12-07T09:58:00.000Z', 120_000],
    ['not ready for an hour: 5 minutes at most', '2026-12-07T09:00:00.000Z', 300_000],
  ])('backs off while not ready: %s', (_case, since, requeue) => {
    const wrong = [ok('a.example.test', '198.51.100.7')];
    const current = condition('False', 'NotPointingAtNode', `must point only at ${NODE}: a.example.test (now 198.51.100.7)`, since);
    const decision = decideDns({ dns: dns('2026-12-07T09:59:00.000Z', [{ name: 'a.example.test', addresses: ['198.51.100.7'], ready: false }]), conditions: [current] }, [NODE], wrong, now);
    expect(decision.write).toBeUndefined();
    expect(decision.requeueAfterMs).toBe(requeue);
  });

  it('keeps a lookup error (shortened) in the domain', () => {
    const decision = decideDns({ conditions: [] }, [NODE], [{ name: 'a.example.test', addresses: [], error: 'x'.repeat(300) }], now);
    expect(decision.write?.dns.domains[0]?.error).toHaveLength(256);
  });
});

describe('nodeAddresses', () => {
  it.each<[string, { address?: string }, { addresses?: string[] }, string[]]>([
    ['reported addresses', {}, { addresses: [NODE, V6] }, [NODE, V6]],
    ["a static node's spec.address", { address: NODE }, {}, [NODE]],
    ['both, without duplicates', { address: NODE }, { addresses: [NODE, V6] }, [NODE, V6]],
    ['none', {}, {}, []],
  ])('%s', (_case, spec, status, expected) => {
    expect(nodeAddresses({ spec, status })).toEqual(expected);
  });
});
