import { describe, expect, it } from 'vitest';
import { pickNode, type NodeView } from './pick-node.js';

const node = (name: string, over: Partial<NodeView> = {}): NodeView => ({ name, ready: true, unschedulable: false, load: 1, sites: 0, ...over });

describe('pickNode', () => {
  it.each<[string, NodeView[], string | undefined]>([
    ['no nodes', [], undefined],
    ['the only Ready node', [node('a')], 'a'],
    ['the lowest load', [node('a', { load: 2 }), node('b', { load: 0.5 }), node('c', { load: 1 })], 'b'],
    ['a zero load over any positive one', [node('a', { load: 0.01 }), node('b', { load: 0 })], 'b'],
    ['fewest sites on a load tie', [node('a', { sites: 9 }), node('b', { sites: 2 }), node('c', { sites: 5 })], 'b'],
    ['the smallest name on a full tie', [node('c'), node('a'), node('b')], 'a'],
    ['load before sites', [node('a', { load: 1, sites: 0 }), node('b', { load: 0.9, sites: 50 })], 'b'],
    ['nothing when every node is NotReady', [node('a', { ready: false }), node('b', { ready: false })], undefined],
    ['nothing when every node is cordoned', [node('a', { unschedulable: true })], undefined],
    ['a busier node over an idle NotReady one', [node('a', { load: 0, ready: false }), node('b', { load: 5 })], 'b'],
    ['a busier node over an idle cordoned one', [node('a', { load: 0, unschedulable: true }), node('b', { load: 5 })], 'b'],
  ])('picks %s', (_name, nodes, expected) => {
    expect(pickNode(nodes)?.name).toBe(expected);
  });

  it('does not depend on the order of the list', () => {
    const nodes = [node('d', { load: 1, sites: 1 }), node('b', { load: 1, sites: 1 }), node('c', { load: 1, sites: 1 }), node('e', { load: 2 })];
    const orders = [nodes, [...nodes].reverse(), [nodes[2]!, nodes[0]!, nodes[3]!, nodes[1]!]];
    for (const order of orders) expect(pickNode(order)?.name).toBe('b');
  });
});
