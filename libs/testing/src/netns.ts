import { randomInt } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  IP,
  HUB_PREFIX,
  MAX_NODES,
  SUBNET_COUNT,
  floatingAddress,
  hostAddress,
  hubNamespace,
  hubPort,
  inNamespace,
  isLeftover,
  nodeAddress,
  nodeNamespace,
  parseNamespace,
  procStartTime,
  subnetOfIndex,
  type Owner,
  type Subnet,
} from './netns-names.js';
import { ManagedProcess, pidAlive, run, sleep, type SpawnOptions } from './process.js';

/**
 * One claim file per live network (tmpfs like /run/netns: gone after a reboot, as the namespaces
 * are). Created with O_EXCL before the namespaces, so two test workers never take one subnet and a
 * namespace without a claim of a live owner is a leftover.
 */
export const NETNS_REGISTRY = '/run/pressluft-netns';

/** A network namespace of a PrivateNetwork: the hub or a node. */
export class Netns {
  constructor(
    /** The node's name given by the caller ('hub' for the hub). */
    readonly name: string,
    readonly namespace: string,
    /** Its address on the private network. */
    readonly address: string,
    /** Its interface on the private network: br0 in the hub, eth0 in a node. */
    readonly device: string,
    private readonly track: (process: ManagedProcess) => void,
  ) {}

  /** `argv` run inside this namespace. */
  argv(argv: readonly string[]): string[] {
    return inNamespace(this.namespace, argv);
  }

  /** Starts a process inside this namespace; the network stops it on destroy. */
  start(name: string, argv: readonly string[], options: SpawnOptions): ManagedProcess {
    const child = ManagedProcess.start(name, this.argv(argv), options);
    this.track(child);
    return child;
  }

  /** `ip <args>` applied to this namespace (ip enters it itself: no extra process inside). */
  ip(args: readonly string[]): Promise<string> {
    return run([IP, '-n', this.namespace, ...args]);
  }
}

/**
 * A private network of namespaces on one machine: a hub namespace holding a bridge and one
 * namespace per node, each joined to the bridge by a veth pair. Nothing is added to the machine's
 * own namespace; nodes reach each other only over their addresses (see ADR 0034).
 */
export class PrivateNetwork {
  readonly hub: Netns;
  private readonly nodes: Netns[] = [];
  private readonly processes: ManagedProcess[] = [];
  private destroyed = false;

  private constructor(
    readonly label: string,
    readonly subnet: Subnet,
  ) {
    this.hub = new Netns('hub', hubNamespace(subnet), hostAddress(subnet, 1), 'br0', (p) => this.processes.push(p));
  }

  /** Claims a free subnet and makes the hub: a namespace with loopback and a bridge on 10.a.b.1/24. */
  static async create(label: string): Promise<PrivateNetwork> {
    const network = new PrivateNetwork(label, claimSubnet(label));
    try {
      const hub = network.hub;
      await run([IP, 'netns', 'add', hub.namespace]);
      await hub.ip(['link', 'set', 'lo', 'up']);
      // No STP and no forward delay: a port forwards as soon as it is up.
      await hub.ip(['link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
      await hub.ip(['addr', 'add', `${hub.address}/24`, 'dev', 'br0']);
      await hub.ip(['link', 'set', 'br0', 'up']);
      return network;
    } catch (error) {
      await network.destroy();
      throw error;
    }
  }

  /** A node namespace `pln-<a>-<b>-<n>` with eth0 on 10.a.b.<10+n>/24, its peer a port of the hub's bridge. */
  async addNode(name: string): Promise<Netns> {
    if (this.destroyed) throw new Error(`network ${this.label}: destroyed`);
    if (this.nodes.some((node) => node.name === name)) throw new Error(`network ${this.label}: a node named ${name} exists`);
    const n = this.nodes.length + 1;
    if (n > MAX_NODES) throw new Error(`network ${this.label}: at most ${MAX_NODES} nodes`);
    const node = new Netns(name, nodeNamespace(this.subnet, n), nodeAddress(this.subnet, n), 'eth0', (p) => this.processes.push(p));
    // Listed before it exists, so that a failure half-way is cleaned up by destroy().
    this.nodes.push(node);
    await run([IP, 'netns', 'add', node.namespace]);
    await node.ip(['link', 'set', 'lo', 'up']);
    // Made inside the hub with its peer born inside the node: neither end ever exists in the machine's namespace.
    await this.hub.ip(['link', 'add', hubPort(n), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.namespace]);
    await this.hub.ip(['link', 'set', hubPort(n), 'master', 'br0', 'up']);
    await node.ip(['addr', 'add', `${node.address}/24`, 'dev', 'eth0']);
    await node.ip(['link', 'set', 'eth0', 'up']);
    return node;
  }

  /** The k-th address set aside for floating addresses (10.a.b.<200+k>), owned by no node until given one. */
  floatingAddress(k: number): string {
    return floatingAddress(this.subnet, k);
  }

  async addAddress(address: string, node: Netns): Promise<void> {
    await node.ip(['addr', 'add', `${address}/32`, 'dev', node.device]);
  }

  /**
   * Moves a /32 from one node to another as a floating IP moves: added on the target, every
   * neighbour table of the network pointed at the target's MAC (what a gratuitous ARP does; there
   * is no arping here), then removed from the source. New connections never meet a gap.
   */
  async moveAddress(address: string, from: Netns, to: Netns): Promise<void> {
    await this.addAddress(address, to);
    const mac = await macOf(to);
    for (const peer of [this.hub, ...this.nodes]) {
      if (peer === to) continue;
      await peer.ip(['neigh', 'replace', address, 'lladdr', mac, 'dev', peer.device, 'nud', 'reachable']);
    }
    await from.ip(['addr', 'del', `${address}/32`, 'dev', from.device]);
  }

  /** Stops what it started, kills whatever else still runs in its namespaces, deletes them. Idempotent. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await Promise.all(this.processes.map((p) => p.stop('SIGTERM', 5000)));
    for (const ns of [...this.nodes, this.hub].map((m) => m.namespace)) await removeNamespace(ns);
    rmSync(claimFile(this.hub.namespace), { force: true });
  }
}

/**
 * Takes a free subnet by linking its claim file into place (atomic, and never seen half-written
 * by a sweep); a random start so that parallel workers rarely collide.
 */
function claimSubnet(label: string): Subnet {
  mkdirSync(NETNS_REGISTRY, { recursive: true, mode: 0o700 });
  const live = new Set(listDir('/run/netns').filter((n) => n.startsWith(HUB_PREFIX)));
  const owner: Owner = { pid: process.pid, start: startTimeOf(process.pid) ?? '' };
  const draft = join(NETNS_REGISTRY, `.draft-${process.pid}-${randomInt(1e9)}`);
  writeFileSync(draft, JSON.stringify({ label, ...owner }), { mode: 0o600 });
  try {
    const first = randomInt(SUBNET_COUNT);
    for (let i = 0; i < SUBNET_COUNT; i++) {
      const subnet = subnetOfIndex((first + i) % SUBNET_COUNT);
      // A hub namespace without a claim is a crashed run's: leave it to sweepLeftovers.
      if (live.has(hubNamespace(subnet))) continue;
      try {
        linkSync(draft, claimFile(hubNamespace(subnet)));
        return subnet;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new Error(`no free subnet for network ${label}`);
  } finally {
    rmSync(draft, { force: true });
  }
}

function claimFile(hub: string): string {
  return join(NETNS_REGISTRY, `${hub}.json`);
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

function startTimeOf(pid: number): string | undefined {
  try {
    return procStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

async function macOf(node: Netns): Promise<string> {
  const [link] = JSON.parse(await node.ip(['-j', 'link', 'show', 'dev', node.device])) as { address: string }[];
  if (!link) throw new Error(`${node.namespace}: no ${node.device}`);
  return link.address;
}

/** Kills every process left in the namespace (by PID: they are ours), then deletes it; gone already is fine. */
async function removeNamespace(namespace: string): Promise<void> {
  const pids = async () => (await run([IP, 'netns', 'pids', namespace]).catch(() => '')).split('\n').filter(Boolean).map(Number);
  for (const pid of await pids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  for (let i = 0; i < 50 && (await pids()).some(pidAlive); i++) await sleep(20);
  await run([IP, 'netns', 'del', namespace]).catch((error: unknown) => {
    if (!String(error).includes('No such file')) throw error;
  });
}

/**
 * Removes the networks of crashed runs: every namespace of ours whose network has no claim or
 * whose claim's owner is gone, with the processes left in it. Live networks of other workers stay.
 */
export async function sweepLeftovers(): Promise<string[]> {
  const namespaces = (await run([IP, 'netns', 'list'])).split('\n').map((line) => line.split(' ')[0] ?? '');
    const leftover = (hub: string) => isLeftover(readOwner(hub), startTimeOf);
  const swept: string[] = [];
  for (const ns of namespaces) {
    const parsed = parseNamespace(ns);
    if (!parsed || !leftover(hubNamespace(parsed.subnet))) continue;
    await removeNamespace(ns);
    swept.push(ns);
  }
  for (const claim of listDir(NETNS_REGISTRY).filter((f) => f.endsWith('.json'))) {
    const hub = claim.slice(0, -'.json'.length);
    if (leftover(hub)) rmSync(join(NETNS_REGISTRY, claim), { force: true });
  }
  // A draft outlives only a creator killed between writing and linking it.
  for (const draft of listDir(NETNS_REGISTRY).filter((f) => f.startsWith('.draft-'))) {
    if (!pidAlive(Number(draft.split('-')[1]))) rmSync(join(NETNS_REGISTRY, draft), { force: true });
  }
  return swept;
}

function readOwner(hub: string): Owner | undefined {
  try {
    const claim = JSON.parse(readFileSync(claimFile(hub), 'utf8')) as Partial<Owner>;
    return typeof claim.pid === 'number' && typeof claim.start === 'string' ? { pid: claim.pid, start: claim.start } : undefined;
  } catch {
    return undefined;
  }
}
