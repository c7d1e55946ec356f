import { describe, expect, it } from 'vitest';
import {
  MAX_NAME,
  SUBNET_COUNT,
  floatingAddress,
  hubNamespace,
  inNamespace,
  isLeftover,
  nodeAddress,
  nodeNamespace,
  parseNamespace,
  procStartTime,
  subnetIndex,
  subnetOfIndex,
} from './netns-names.js';

describe('private network names', () => {
  it.each([
    [0, { a: 200, b: 0 }],
    [255, { a: 200, b: 255 }],
    [256, { a: 201, b: 0 }],
    [SUBNET_COUNT - 1, { a: 250, b: 255 }],
  ])('subnet %i is 10.%o.0/24 and back', (index, subnet) => {
    expect(subnetOfIndex(index)).toEqual(subnet);
    expect(subnetIndex(subnet)).toBe(index);
  });

  it.each([-1, SUBNET_COUNT, 1.5])('refuses subnet index %d', (index) => {
    expect(() => subnetOfIndex(index)).toThrow(/outside/);
  });

  it.each([
    [{ a: 200, b: 0 }, 1, 'plh-200-0', 'pln-200-0-1', '10.200.0.11'],
    [{ a: 250, b: 255 }, 189, 'plh-250-255', 'pln-250-255-189', '10.250.255.199'],
  ])('the widest names still fit IFNAMSIZ: %o node %i', (subnet, n, hub, node, address) => {
    expect(hubNamespace(subnet)).toBe(hub);
    expect(nodeNamespace(subnet, n)).toBe(node);
    expect(node.length).toBeLessThanOrEqual(MAX_NAME);
    expect(nodeAddress(subnet, n)).toBe(address);
  });

  it.each([0, 190, 2.5])('refuses node number %d', (n) => {
    expect(() => nodeNamespace({ a: 200, b: 1 }, n)).toThrow(/outside 1\.\.189/);
    expect(() => nodeAddress({ a: 200, b: 1 }, n)).toThrow(/outside/);
  });

  it.each([
    [0, '10.201.3.200'],
    [54, '10.201.3.254'],
  ])('floating address %i is %s', (k, address) => {
    expect(floatingAddress({ a: 201, b: 3 }, k)).toBe(address);
  });

  it('refuses a floating address past .254', () => {
    expect(() => floatingAddress({ a: 201, b: 3 }, 55)).toThrow(/outside 0\.\.54/);
  });

  it.each([
    ['plh-200-7', { subnet: { a: 200, b: 7 } }],
    ['pln-250-255-3', { subnet: { a: 250, b: 255 }, node: 3 }],
    ['plh-200-7-1', undefined],
    ['pln-200-7', undefined],
    ['plh-199-7', undefined],
    ['plh-200-256', undefined],
    ['cni-1234', undefined],
    ['xplh-200-7', undefined],
  ])('%s parses as %o', (name, parsed) => {
    expect(parseNamespace(name)).toEqual(parsed);
  });

  it('runs an argv inside a namespace through ip netns exec, and refuses an empty one', () => {
    expect(inNamespace('pln-200-7-1', ['/usr/bin/node', '-e', 'x'])).toEqual(['/usr/sbin/ip', 'netns', 'exec', 'pln-200-7-1', '/usr/bin/node', '-e', 'x']);
    expect(() => inNamespace('pln-200-7-1', [])).toThrow(/empty argv/);
  });
});

describe('leftovers', () => {
  const stat = (comm: string) => `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000000 200 18446744073709551615`;

  it.each(['node', 'a b) c', 'x (y)'])('reads the start time past a command name like %j', (comm) => {
    expect(procStartTime(stat(comm))).toBe('987654');
  });

  it('refuses a stat line without a start time', () => {
    expect(() => procStartTime('4242 (node) S 1')).toThrow(/no start time/);
  });

  it.each([
    ['no claim', undefined, undefined, true],
    ['owner gone', { pid: 10, start: '5' }, undefined, true],
    ['PID reused by another process', { pid: 10, start: '5' }, '6', true],
    ['owner alive', { pid: 10, start: '5' }, '5', false],
  ])('%s: leftover %#', (_case, owner, current, expected) => {
    expect(isLeftover(owner, () => current)).toBe(expected);
  });
});
