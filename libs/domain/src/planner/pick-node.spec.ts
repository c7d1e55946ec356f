import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeSpec, NodeStatus } from '../node.js';
import type { Resource } from '../resource.js';
import { nodeView, pickNode, placementRequest, skipReason, type BoundSite, type NodeView, type PlacementRequest } from './pick-node.js';

const GI = 1024;
const bound = (name: string, cpuPercent = 100, memoryMi = 512, cloneOf?: string): BoundSite => ({ name, requests: { cpuPercent, memoryMi }, ...(cloneOf ? { cloneOf } : {}) });
const node = (name: string, over: Partial<NodeView> = {}): NodeView => ({ name, ready: true, unschedulable: false, load: 1, labels: {}, capacity: undefined, sites: [], ...over });
/** A node with `cores` and `gi` of memory. */
const sized = (name: string, cores: number, gi: number, over: Partial<NodeView> = {}): NodeView => node(name, { capacity: { cpuPercent: cores * 100, memoryMi: gi * GI }, ...over });
const site = (over: Partial<PlacementRequest> = {}): PlacementRequest => ({ name: 'shop', requests: { cpuPercent: 100, memoryMi: 512 }, nodeSelector: {}, ...over });
const many = (n: number, cpuPercent = 100, memoryMi = 512): BoundSite[] => Array.from({ length: n }, (_, i) => bound(`s${i}`, cpuPercent, memoryMi));

describe('pickNode', () => {
  it.each<[string, PlacementRequest, NodeView[], string | undefined]>([
    // readiness and cordon
    ['no nodes', site(), [], undefined],
    ['the only Ready node', site(), [node('a')], 'a'],
    ['nothing when every node is NotReady', site(), [node('a', { ready: false }), node('b', { ready: false })], undefined],
    ['nothing when every node is cordoned', site(), [node('a', { unschedulable: true })], undefined],
    ['a busier node over an idle NotReady one', site(), [node('a', { load: 0, ready: false }), node('b', { load: 5 })], 'b'],
    ['a busier node over an idle cordoned one', site(), [node('a', { load: 0, unschedulable: true }), node('b', { load: 5 })], 'b'],
    // node selector
    ['the node with the selected label', site({ nodeSelector: { tier: 'web' } }), [node('a', { load: 0 }), node('b', { labels: { tier: 'web' } })], 'b'],
    ['nothing when the label has another value', site({ nodeSelector: { tier: 'web' } }), [node('a', { labels: { tier: 'db' } })], undefined],
    ['only a node with every selected label', site({ nodeSelector: { tier: 'web', zone: 'fsn1' } }), [node('a', { load: 0, labels: { tier: 'web' } }), node('b', { labels: { tier: 'web', zone: 'fsn1', x: 'y' } })], 'b'],
    ['an empty label value only where the label is empty', site({ nodeSelector: { ssd: '' } }), [node('a', { load: 0 }), node('b', { labels: { ssd: '' } })], 'b'],
    ['any node without a selector', site(), [node('b', { labels: { tier: 'web' } }), node('a', { labels: {} })], 'a'],
    // capacity: cpu in percent of one core times cores, memory in MiB
    ['a node whose cpu is exactly used up by the site', site(), [sized('a', 2, 8, { sites: many(1) })], 'a'],
    ['not a node one percent of cpu short', site({ requests: { cpuPercent: 101, memoryMi: 512 } }), [sized('a', 2, 8, { sites: many(1) })], undefined],
    ['a node whose memory is exactly used up by the site', site({ requests: { cpuPercent: 10, memoryMi: 1024 } }), [sized('a', 8, 2, { sites: many(1, 10, 1024) })], 'a'],
    ['not a node one MiB of memory short', site({ requests: { cpuPercent: 10, memoryMi: 1025 } }), [sized('a', 8, 2, { sites: many(1, 10, 1024) })], undefined],
    ['a full node is skipped for an idler, emptier one', site(), [sized('a', 1, 8, { load: 0, sites: many(1) }), sized('b', 4, 8, { load: 3 })], 'b'],
    ['a site bigger than any node goes nowhere', site({ requests: { cpuPercent: 800, memoryMi: 512 } }), [sized('a', 4, 8), sized('b', 2, 8)], undefined],
    ['a node of unknown capacity fits, however many sites it has', site(), [node('a', { sites: many(50) })], 'a'],
    ['pinned and deleting sites count: they are in sites', site(), [sized('a', 2, 8, { load: 0, sites: [bound('pinned'), bound('deleting')] }), sized('b', 2, 8, { load: 1 })], 'b'],
    // spreading a production site and its staging copy
    ['a clone away from its source', site({ name: 'shop-staging', cloneOf: 'shop' }), [node('a', { load: 0, sites: [bound('shop')] }), node('b', { load: 2 })], 'b'],
    ['a source away from its clone', site({ name: 'shop' }), [node('a', { load: 0, sites: [bound('shop-staging', 100, 512, 'shop')] }), node('b', { load: 2 })], 'b'],
    ['a clone beside its source when no other node fits', site({ name: 'shop-staging', cloneOf: 'shop' }), [node('a', { sites: [bound('shop')] }), node('b', { unschedulable: true })], 'a'],
    ['a clone beside its source rather than on a full node', site({ name: 'shop-staging', cloneOf: 'shop' }), [node('a', { sites: [bound('shop')] }), sized('b', 1, 8, { load: 0, sites: many(1) })], 'a'],
    ['a clone of another site is no reason to avoid a node', site({ name: 'shop' }), [node('a', { load: 0, sites: [bound('blog-staging', 100, 512, 'blog')] }), node('b', { load: 2 })], 'a'],
    ['a sibling clone is no reason to avoid a node', site({ name: 'shop-qa', cloneOf: 'shop' }), [node('a', { load: 0, sites: [bound('shop-staging', 100, 512, 'shop')] }), node('b', { load: 2 })], 'a'],
    // scoring: load, free memory, sites, name
    ['the lowest load', site(), [node('a', { load: 2 }), node('b', { load: 0.5 }), node('c', { load: 1 })], 'b'],
    ['a zero load over any positive one', site(), [node('a', { load: 0.01 }), node('b', { load: 0 })], 'b'],
    ['load before free memory', site(), [sized('a', 4, 64, { load: 1 }), sized('b', 4, 2, { load: 0.9 })], 'b'],
    ['the most free memory on a load tie', site(), [sized('a', 4, 8, { sites: many(4) }), sized('b', 4, 8, { sites: many(2) }), sized('c', 4, 4)], 'b'],
    ['a known free memory over an unknown one', site(), [node('a'), sized('b', 4, 1)], 'b'],
    ['free memory before sites', site(), [sized('a', 8, 16, { sites: many(6, 10, 64) }), sized('b', 8, 16, { sites: many(1, 10, 8 * GI) })], 'a'],
    ['fewest sites on a load and memory tie', site(), [node('a', { sites: many(9) }), node('b', { sites: many(2) }), node('c', { sites: many(5) })], 'b'],
    ['the smallest name on a full tie', site(), [node('c'), node('a'), node('b')], 'a'],
    ['load before sites', site(), [node('a', { load: 1 }), node('b', { load: 0.9, sites: many(50) })], 'b'],
  ])('picks %s', (_name, request, nodes, expected) => {
    expect(pickNode(request, nodes).node?.name).toBe(expected);
  });

  it.each<[string, PlacementRequest, NodeView[], string]>([
    ['no nodes', site(), [], '0/0 nodes are available: 0 not Ready, 0 unschedulable, 0 do not match the node selector, 0 without capacity'],
    [
      'one of each',
      site({ nodeSelector: { tier: 'web' } }),
      [node('a', { ready: false }), node('b', { unschedulable: true, labels: { tier: 'web' } }), node('c'), sized('d', 1, 1, { labels: { tier: 'web' }, sites: many(1) })],
      '0/4 nodes are available: 1 not Ready, 1 unschedulable, 1 does not match the node selector, 1 without capacity',
    ],
    [
      'each node under the first filter it fails',
      site({ nodeSelector: { tier: 'web' } }),
      [node('a', { ready: false, unschedulable: true }), node('b', { unschedulable: true }), node('c'), node('d')],
      '0/4 nodes are available: 1 not Ready, 1 unschedulable, 2 do not match the node selector, 0 without capacity',
    ],
  ])('says why, in aggregate: %s', (_name, request, nodes, message) => {
    expect(pickNode(request, nodes)).toEqual({ node: undefined, message });
  });

  it('does not depend on the order of the list', () => {
    const nodes = [node('d', { sites: many(1) }), node('b', { sites: many(1) }), node('c', { sites: many(1) }), node('e', { load: 2 })];
    const orders = [nodes, [...nodes].reverse(), [nodes[2]!, nodes[0]!, nodes[3]!, nodes[1]!]];
    for (const order of orders) expect(pickNode(site(), order).node?.name).toBe('b');
  });
});

describe('pickNode: properties', () => {
  const resourcesArb = fc.record({ cpuPercent: fc.integer({ min: 1, max: 800 }), memoryMi: fc.integer({ min: 64, max: 8 * GI }) });
  const labelsArb = fc.dictionary(fc.constantFrom('tier', 'zone', 'ssd'), fc.constantFrom('web', 'db', ''), { maxKeys: 3 });
  const nodeArb = fc.record({
    ready: fc.boolean(),
    unschedulable: fc.boolean(),
    load: fc.constantFrom(0, 0.5, 1, 2),
    labels: labelsArb,
    capacity: fc.option(fc.record({ cpuPercent: fc.integer({ min: 1, max: 8 }).map((cores) => cores * 100), memoryMi: fc.integer({ min: 1, max: 16 }).map((gi) => gi * GI) }), { nil: undefined }),
    sites: fc.array(fc.record({ name: fc.constantFrom('shop', 'blog', 'x'), cloneOf: fc.option(fc.constantFrom('shop', 'blog'), { nil: undefined }), requests: resourcesArb }), { maxLength: 6 }),
  });
  const nodesArb = fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), nodeArb), { selector: ([name]) => name, maxLength: 5 }).map((pairs) => pairs.map(([name, rest]): NodeView => ({ name, ...rest })));
  const requestArb = fc.record({ name: fc.constantFrom('shop', 'shop-staging'), cloneOf: fc.option(fc.constant('shop'), { nil: undefined }), requests: resourcesArb, nodeSelector: labelsArb });

  it('the chosen node passes every hard filter, and one is chosen whenever some node passes', () => {
    fc.assert(
      fc.property(requestArb, nodesArb, (request, nodes) => {
        const placement = pickNode(request, nodes);
        const passing = nodes.filter((n) => skipReason(request, n) === undefined);
        if (placement.node) expect(skipReason(request, placement.node)).toBeUndefined();
        expect(placement.node === undefined).toBe(passing.length === 0);
      }),
    );
  });

  it('without a choice, the message counts every node once', () => {
    fc.assert(
      fc.property(requestArb, nodesArb, (request, nodes) => {
        const placement = pickNode(request, nodes);
        if (placement.node) return;
        const counted = [...placement.message.matchAll(/(\d+) (not Ready|unschedulable|does not|do not|without)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
        expect(counted).toBe(nodes.length);
        expect(placement.message.startsWith(`0/${nodes.length} nodes are available: `)).toBe(true);
      }),
    );
  });

  it('the choice does not depend on the order of the nodes', () => {
    fc.assert(
      fc.property(requestArb, nodesArb, (request, nodes) => {
        expect(pickNode(request, [...nodes].reverse()).node?.name).toBe(pickNode(request, nodes).node?.name);
      }),
    );
  });
});

describe('nodeView and placementRequest', () => {
  const resource = (spec: Partial<NodeSpec>, status: Partial<NodeStatus>, labels: Record<string, string> = {}): Resource<Partial<NodeSpec>, NodeStatus> =>
    ({ metadata: { name: 'web-1', labels }, spec, status: { phase: 'READY', observedGeneration: 0, conditions: [], ...status } }) as unknown as Resource<Partial<NodeSpec>, NodeStatus>;
  const ready = [{ type: 'Ready', status: 'True' as const, reason: 'Heartbeat', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }];

  it('reads capacity as percent of one core times cores and MiB', () => {
    expect(nodeView(resource({ overcommit: { cpu: 1, memory: 1 } }, { capacity: { cpu: 4, memory: '8Gi' } }), []).capacity).toEqual({ cpuPercent: 400, memoryMi: 8192 });
    expect(nodeView(resource({ overcommit: { cpu: 1, memory: 1 } }, { capacity: { cpu: 2, memory: '3911Mi' } }), []).capacity).toEqual({ cpuPercent: 200, memoryMi: 3911 });
    // By default the sites' limits may add up to 10 times the cores and twice the memory.
    expect(nodeView(resource({}, { capacity: { cpu: 2, memory: '3911Mi' } }), []).capacity).toEqual({ cpuPercent: 2000, memoryMi: 7822 });
    expect(nodeView(resource({ overcommit: { cpu: 2.5 } }, { capacity: { cpu: 2, memory: '1Gi' } }), []).capacity).toEqual({ cpuPercent: 500, memoryMi: 2048 });
    expect(nodeView(resource({}, {}), []).capacity).toBeUndefined();
  });

  it('merges metadata.labels and spec.labels, the spec winning', () => {
    expect(nodeView(resource({ labels: { tier: 'web', zone: 'fsn1' } }, {}, { tier: 'db', team: 'ops' }), []).labels).toEqual({ tier: 'web', zone: 'fsn1', team: 'ops' });
  });

  it('reads readiness, cordon and load', () => {
    expect(nodeView(resource({ unschedulable: true }, { conditions: ready, load: 0.42 }), [])).toMatchObject({ ready: true, unschedulable: true, load: 0.42 });
    expect(nodeView(resource({}, {}), [])).toMatchObject({ ready: false, unschedulable: false, load: 0 });
  });

  it('takes a site spec as its requests, selector and clone source', () => {
    const spec = { resources: { cpu: '250%', memory: '2Gi' }, placement: { nodeSelector: { tier: 'web' } }, source: { clone: { site: 'shop' } } };
    expect(placementRequest('shop-staging', spec)).toEqual({ name: 'shop-staging', cloneOf: 'shop', requests: { cpuPercent: 250, memoryMi: 2048 }, nodeSelector: { tier: 'web' } });
    expect(placementRequest('shop', { resources: { cpu: '100%', memory: '512Mi' } })).toEqual({ name: 'shop', requests: { cpuPercent: 100, memoryMi: 512 }, nodeSelector: {} });
  });
});
