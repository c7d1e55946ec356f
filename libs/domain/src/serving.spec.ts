import { describe, expect, it } from 'vitest';
import type { KindName } from './kinds.js';
import type { Resource } from './resource.js';
import { inListOrder, listOrderKey, withSiteCounts } from './serving.js';

const object = (kind: KindName, name: string, spec: unknown = {}, status: unknown = {}): Resource => ({
  apiVersion: 'pressluft.io/v1',
  kind,
  metadata: { name, uid: '0b4c3f7e-9a1d-4c1e-8f00-0123456789ab', generation: 1, resourceVersion: '1', labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-06-01T11:00:00Z' },
  spec,
  status,
});
const event = (name: string, lastTimestamp: string) =>
  object('Event', name, { type: 'Normal', reason: 'R', message: 'm', involvedObject: { kind: 'Site', name: 'shop' }, count: 1, firstTimestamp: '2026-06-01T10:00:00Z', lastTimestamp });

describe('listOrderKey and inListOrder', () => {
  it.each([
    ['sites by name', [object('Site', 'zeta'), object('Site', 'alpha'), object('Site', 'mid')], ['alpha', 'mid', 'zeta']],
    [
      'events oldest first, newest last, whatever their names',
      [event('a.1', '2026-06-01T12:00:00Z'), event('b.1', '2026-06-01T11:00:00Z'), event('c.1', '2026-06-01T11:30:00Z')],
      ['b.1', 'c.1', 'a.1'],
    ],
    ['events at the same time by name', [event('b.1', '2026-06-01T11:00:00Z'), event('a.1', '2026-06-01T11:00:00Z')], ['a.1', 'b.1']],
    [
      'event timestamps of another precision or offset by time, not by text',
      [event('a.1', '2026-06-01T11:00:00Z'), event('b.1', '2026-06-01T11:00:00.500Z'), event('c.1', '2026-06-01T12:59:00+02:00')],
      ['c.1', 'a.1', 'b.1'],
    ],
  ] as const)('%s', (_name, items, names) => {
    expect(inListOrder(items).map((i) => i.metadata.name)).toEqual(names);
  });

  it('resumes a page after the last key served (a continue token holds it)', () => {
    const items = inListOrder([event('a.1', '2026-06-01T12:00:00Z'), event('b.1', '2026-06-01T11:00:00Z')]);
    const after = listOrderKey(items[0] ?? object('Site', 'none'));
    expect(items.filter((i) => listOrderKey(i) > after).map((i) => i.metadata.name)).toEqual(['a.1']);
  });
});

describe('withSiteCounts', () => {
  it('sets status.sites on nodes from the counts (0 for none), leaves other kinds as they are', () => {
    const counts = new Map([['node-a', 2]]);
    const site = object('Site', 'shop');
    const served = withSiteCounts([object('Node', 'node-a', {}, { phase: 'READY', sites: 9 }), object('Node', 'node-b', {}, { phase: 'READY' }), site], counts);
    expect(served.map((o) => o.status)).toEqual([{ phase: 'READY', sites: 2 }, { phase: 'READY', sites: 0 }, {}]);
    expect(served[2]).toBe(site);
  });
});
