import { describe, expect, it } from 'vitest';
import { coreEventMatches, parseCoreEventSelector, toCoreEvent } from './core-event.js';
import type { EventBody } from './event.js';
import type { Resource } from './resource.js';

const UID = '0b4c3f7e-9a1d-4c1e-8f00-0123456789ab';

const event = (involved: EventBody['involvedObject']): Resource<EventBody> => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Event',
  metadata: {
    name: `${involved.name}.abc123`,
    uid: '11111111-2222-4333-8444-555555555555',
    generation: 1,
    resourceVersion: '42',
    labels: {},
    annotations: {},
    finalizers: [],
    creationTimestamp: '2026-06-01T11:00:00Z',
  },
  spec: {
    type: 'Normal',
    reason: 'Scheduled',
    message: 'bound to node local',
    involvedObject: involved,
    count: 2,
    firstTimestamp: '2026-06-01T11:00:00.000Z',
    lastTimestamp: '2026-06-01T11:05:00.000Z',
  },
  status: {},
});

describe('parseCoreEventSelector', () => {
  it.each([
    ['what kubectl describe sends', `involvedObject.kind=Site,involvedObject.name=shop,involvedObject.namespace=,involvedObject.uid=${UID}`, {
      'involvedObject.kind': 'Site',
      'involvedObject.name': 'shop',
      'involvedObject.namespace': '',
      'involvedObject.uid': UID,
    }],
    ['double equals', 'involvedObject.name==shop', { 'involvedObject.name': 'shop' }],
    ['empty', '', {}],
  ] as const)('%s', (_name, value, selector) => {
    expect(parseCoreEventSelector(value)).toEqual({ ok: true, selector });
  });

  it.each([
    ['inequality', 'involvedObject.name!=shop'],
    ['another field', 'reason=Scheduled'],
    ['an escaped value', 'involvedObject.name=a\\,b'],
    ['no operator', 'involvedObject.name'],
  ])('refuses %s', (_name, value) => {
    expect(parseCoreEventSelector(value).ok).toBe(false);
  });
});

describe('coreEventMatches', () => {
  const shop = event({ kind: 'Site', name: 'shop', uid: UID });
  it.each([
    ['everything (no selector)', {}, shop, true],
    ['kind, name, empty namespace and uid', { 'involvedObject.kind': 'Site', 'involvedObject.name': 'shop', 'involvedObject.namespace': '', 'involvedObject.uid': UID }, shop, true],
    ['another name', { 'involvedObject.name': 'blog' }, shop, false],
    ['another kind', { 'involvedObject.kind': 'Node' }, shop, false],
    ['a namespace (ours have none)', { 'involvedObject.namespace': 'default' }, shop, false],
    ['another incarnation (uid)', { 'involvedObject.uid': '99999999-2222-4333-8444-555555555555' }, shop, false],
    ['an empty uid, event recorded without one', { 'involvedObject.uid': '' }, event({ kind: 'Site', name: 'shop' }), true],
  ] as const)('%s -> %s', (_name, selector, candidate, matches) => {
    expect(coreEventMatches(selector, candidate)).toBe(matches);
  });
});

describe('toCoreEvent', () => {
  it('is a core/v1 Event naming the involved object in our group, with our source', () => {
    expect(toCoreEvent(event({ kind: 'Site', name: 'shop', uid: UID }))).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'shop.abc123', uid: '11111111-2222-4333-8444-555555555555', resourceVersion: '42', creationTimestamp: '2026-06-01T11:00:00Z' },
      involvedObject: { apiVersion: 'pressluft.io/v1', kind: 'Site', name: 'shop', uid: UID },
      type: 'Normal',
      reason: 'Scheduled',
      message: 'bound to node local',
      count: 2,
      firstTimestamp: '2026-06-01T11:00:00.000Z',
      lastTimestamp: '2026-06-01T11:05:00.000Z',
      source: { component: 'pressluft-control-plane' },
      reportingComponent: 'pressluft-control-plane',
    });
  });
});
