import type { CommandSpec, CommandStatus, Resource } from '@pressluft/domain';
import { describe, expect, it } from 'vitest';
import { InformerCache } from './informer.cache.js';

function object(kind: Resource['kind'], name: string, resourceVersion: string, spec: unknown = {}, status: unknown = {}): Resource {
  return {
    apiVersion: 'pressluft.io/v1',
    kind,
    metadata: { name, uid: `${name}-uid`, generation: 1, resourceVersion, labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-01-01T00:00:00.000Z' },
    spec,
    status,
  };
}
const site = (name: string, rv: string, nodeName?: string) => object('Site', name, rv, {}, nodeName ? { nodeName } : {});
const command = (name: string, rv: string, site: string, fence: number, state = 'PENDING') => object('Command', name, rv, { site, fence }, { state });

describe('InformerCache', () => {
  it('answers nothing before it is filled and after it is cleared (the caller reads the database)', () => {
    const cache = new InformerCache();
    cache.apply('ADDED', site('a', '1'));
    expect(cache.site('a')).toBeUndefined();
    expect(cache.ready).toBe(false);
    cache.fill([site('a', '1')], [], []);
    expect(cache.site('a')?.metadata.resourceVersion).toBe('1');
    cache.clear();
    expect(cache.site('a')).toBeUndefined();
  });

  it.each([
    ['a newer version replaces', [['MODIFIED', '5']], '5'],
    ['a replayed older version changes nothing', [['MODIFIED', '2']], '3'],
    ['versions compare as numbers', [['MODIFIED', '10']], '10'],
    ['a deletion removes the object', [['DELETED', '4']], undefined],
    ['a replayed older deletion keeps the newer object', [['DELETED', '2']], '3'],
    ['a re-creation after a deletion is kept', [['DELETED', '4'], ['ADDED', '6']], '6'],
  ] as const)('%s', (_, changes, expected) => {
    const cache = new InformerCache();
    cache.fill([site('a', '3')], [], []);
    for (const [type, rv] of changes) cache.apply(type, site('a', rv));
    expect(cache.site('a')?.metadata.resourceVersion).toBe(expected);
  });

  it("keeps each site's command with the highest fence, whatever order they arrive in", () => {
    const cache = new InformerCache();
    cache.fill([], [], [command('shop-2', '10', 'shop', 2)]);
    cache.apply('ADDED', command('shop-1', '11', 'shop', 1));
    expect(cache.latestCommand('shop')?.metadata.name).toBe('shop-2');
    cache.apply('MODIFIED', command('shop-2', '12', 'shop', 2));
    expect(cache.latestCommand('shop')?.metadata.resourceVersion).toBe('12');
    cache.apply('ADDED', command('shop-3', '13', 'shop', 3));
    expect(cache.latestCommand('shop')?.metadata.name).toBe('shop-3');
    cache.apply('DELETED', command('shop-3', '14', 'shop', 3));
    expect(cache.latestCommand('shop')).toBeUndefined();
  });

  it('lists the sites bound to each node, and the ones still to place, for the scheduler', () => {
    const cache = new InformerCache();
    const pinned = object('Site', 'e', '7', { nodeName: 'n2' });
    const deleting = { ...site('f', '8'), metadata: { ...site('f', '8').metadata, deletionTimestamp: '2026-01-02T00:00:00.000Z' } };
    cache.fill([site('a', '1', 'n1'), site('b', '2', 'n1'), site('c', '3', 'n2'), site('d', '4'), pinned, deleting], [object('Node', 'n1', '5'), object('Node', 'n2', '6')], []);
    expect([...cache.sitesByNode()].map(([node, sites]) => [node, sites.map((s) => s.metadata.name)])).toEqual([['n1', ['a', 'b']], ['n2', ['c']]]);
    expect(cache.unscheduled()).toEqual(['d']);
    expect(cache.allNodes().map((n) => n.metadata.name)).toEqual(['n1', 'n2']);
    expect(cache.node('n2')?.metadata.resourceVersion).toBe('6');
  });

  it("tells a command's news to its site: a new command, a new state or a deletion, not progress", () => {
    const cache = new InformerCache();
    cache.fill([], [], [command('shop-1', '1', 'shop', 1, 'SUCCEEDED')]);
    const steps: Array<['ADDED' | 'MODIFIED' | 'DELETED', ReturnType<typeof command>, boolean]> = [
      ['ADDED', command('shop-2', '2', 'shop', 2, 'PENDING'), true],
      ['MODIFIED', command('shop-2', '3', 'shop', 2, 'RUNNING'), true],
      ['MODIFIED', command('shop-2', '4', 'shop', 2, 'RUNNING'), false],
      ['MODIFIED', command('shop-2', '5', 'shop', 2, 'SUCCEEDED'), true],
      ['DELETED', command('shop-2', '6', 'shop', 2, 'SUCCEEDED'), true],
    ];
    for (const [type, change, news] of steps) {
      expect(cache.isNewsForSite(type, change as Resource<CommandSpec, CommandStatus>)).toBe(news);
      cache.apply(type, change);
    }
  });

  it('names the sites bound to a node', () => {
    const cache = new InformerCache();
    cache.fill([site('a', '1', 'n1'), site('b', '2', 'n2'), site('c', '3', 'n1'), site('d', '4')], [], []);
    expect(cache.sitesOn('n1')).toEqual(['a', 'c']);
    expect(cache.sitesOn('n3')).toEqual([]);
  });
});
