/**
 * The pure parts of the private networks (netns.ts): names, addresses and argv. Every name a
 * network makes encodes its subnet, so a name is its own claim on the subnet and a leftover says
 * which network it belonged to.
 */

export const IP = '/usr/sbin/ip';
/** Interface and namespace names stay within IFNAMSIZ - 1 (the kernel's limit for interfaces). */
export const MAX_NAME = 15;
export const HUB_PREFIX = 'plh-';
export const NODE_PREFIX = 'pln-';
/** Subnets 10.<a>.<b>.0/24 with a in 200..250: 51 * 256 networks. */
export const SUBNET_COUNT = 51 * 256;
/** Node n has .<10+n>; floating addresses are .200 and up; .1 is the hub's bridge. */
export const MAX_NODES = 189;
export const MAX_FLOATING = 55;

export interface Subnet {
  readonly a: number;
  readonly b: number;
}

export function subnetOfIndex(index: number): Subnet {
  if (!Number.isInteger(index) || index < 0 || index >= SUBNET_COUNT) throw new Error(`subnet index ${index} outside 0..${SUBNET_COUNT - 1}`);
  return { a: 200 + Math.floor(index / 256), b: index % 256 };
}

export function subnetIndex(subnet: Subnet): number {
  return (subnet.a - 200) * 256 + subnet.b;
}

function checkedName(name: string): string {
  if (name.length > MAX_NAME) throw new Error(`${name}: longer than ${MAX_NAME} characters`);
  return name;
}

export function hubNamespace(subnet: Subnet): string {
  return checkedName(`${HUB_PREFIX}${subnet.a}-${subnet.b}`);
}

export function nodeNamespace(subnet: Subnet, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NODES) throw new Error(`node number ${n} outside 1..${MAX_NODES}`);
  return checkedName(`${NODE_PREFIX}${subnet.a}-${subnet.b}-${n}`);
}

/** The hub's end of node n's veth pair (inside the hub namespace, so it cannot clash with the machine's). */
export function hubPort(n: number): string {
  return `n${n}`;
}

export function hostAddress(subnet: Subnet, host: number): string {
  if (!Number.isInteger(host) || host < 1 || host > 254) throw new Error(`host ${host} outside 1..254`);
  return `10.${subnet.a}.${subnet.b}.${host}`;
}

export function nodeAddress(subnet: Subnet, n: number): string {
  nodeNamespace(subnet, n);
  return hostAddress(subnet, 10 + n);
}

export function floatingAddress(subnet: Subnet, k: number): string {
  if (!Number.isInteger(k) || k < 0 || k >= MAX_FLOATING) throw new Error(`floating address ${k} outside 0..${MAX_FLOATING - 1}`);
  return hostAddress(subnet, 200 + k);
}

/** Which network (and node) a namespace name of ours belongs to; undefined for any other name. */
export function parseNamespace(name: string): { readonly subnet: Subnet; readonly node?: number } | undefined {
  const match = /^pl([hn])-(\d{3})-(\d{1,3})(?:-(\d{1,3}))?$/.exec(name);
  if (!match) return undefined;
  const [, kind, a, b, n] = match;
  const subnet = { a: Number(a), b: Number(b) };
  if (subnet.a < 200 || subnet.a > 250 || subnet.b > 255) return undefined;
  if (kind === 'h') return n === undefined ? { subnet } : undefined;
  return n === undefined ? undefined : { subnet, node: Number(n) };
}

/** An argv that runs `argv` inside the named namespace (the PID stays the command's: ip execs it). */
export function inNamespace(namespace: string, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new Error(`${namespace}: empty argv`);
  return [IP, 'netns', 'exec', namespace, ...argv];
}

/** An owner of a network: a PID and its start time, so that a reused PID does not count as alive. */
export interface Owner {
  readonly pid: number;
  readonly start: string;
}

/** Field 22 (starttime) of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function procStartTime(stat: string): string {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  if (start === undefined || !/^\d+$/.test(start)) throw new Error(`no start time in /proc stat line: ${stat.slice(0, 80)}`);
  return start;
}

/** A network is a leftover when its registry entry is missing or its owner is no longer the process that made it. */
export function isLeftover(owner: Owner | undefined, startTimeOf: (pid: number) => string | undefined): boolean {
  return owner === undefined || startTimeOf(owner.pid) !== owner.start;
}
