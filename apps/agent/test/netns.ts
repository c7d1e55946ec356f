// A test's own network namespaces (never the machine's own): a "node" with loopback up, and an
// "internet" peer reached over a veth pair, at a public (TEST-NET-2) and a private address. Firewall rules are applied
// only inside these; listeners are processes started inside them and stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { exec, tail } from '../src/host/exec.js';

/** The node's addresses on the veth, and the "internet" host's: a public and a private one each. */
export const NODE_ADDRESS = '198.51.100.1';
export const INTERNET_ADDRESS = '198.51.100.2';
const NODE_PRIVATE_ADDRESS = '10.9.0.1';
export const INTERNET_PRIVATE_ADDRESS = '10.9.0.2';

export interface Listeners {
  readonly tcp?: readonly { readonly host: string; readonly port: number }[];
  /** Unix sockets: created, then given this owner and mode (the dir's mode is the test's). */
  readonly unix?: readonly { readonly path: string; readonly uid: number; readonly gid: number; readonly mode: number }[];
}

// Every accepted connection gets "ok" and is closed (a client's reset is no error here).
const LISTENER_SCRIPT = `
const net = require('node:net');
const fs = require('node:fs');
const spec = JSON.parse(process.argv[1]);
const servers = [...(spec.tcp ?? []).map((t) => [t, null]), ...(spec.unix ?? []).map((u) => [u.path, u])];
let pending = servers.length;
for (const [address, unix] of servers) {
  const server = net.createServer((socket) => socket.on('error', () => undefined).end('ok'));
  const ready = () => {
    if (unix) { fs.chownSync(unix.path, unix.uid, unix.gid); fs.chmodSync(unix.path, unix.mode); }
    if (--pending === 0) process.stdout.write('ready\\n');
  };
  if (unix) server.listen(address, ready); else server.listen(address.port, address.host, ready);
}
`;

async function ipOk(argv: readonly string[]): Promise<void> {
  const result = await exec(['/usr/sbin/ip', ...argv]);
  if (result.code !== 0) throw new Error(`ip ${argv.join(' ')}: ${tail(result.stderr)}`);
}

export class TestNetns {
  private readonly listeners: ChildProcess[] = [];

  private constructor(
    /** The node's namespace (rules and the site's processes go here). */
    readonly name: string,
    /** The "internet" peer's namespace. */
    readonly internet: string,
  ) {}

  static async create(): Promise<TestNetns> {
    const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
    const netns = new TestNetns(`pltest-node-${suffix}`, `pltest-net-${suffix}`);
    try {
      await ipOk(['netns', 'add', netns.name]);
      await ipOk(['netns', 'add', netns.internet]);
      await ipOk(['-n', netns.name, 'link', 'set', 'lo', 'up']);
      await ipOk(['-n', netns.internet, 'link', 'set', 'lo', 'up']);
      await ipOk(['-n', netns.name, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth0', 'netns', netns.internet]);
      for (const [namespace, addresses] of [
        [netns.name, [NODE_ADDRESS, NODE_PRIVATE_ADDRESS]],
        [netns.internet, [INTERNET_ADDRESS, INTERNET_PRIVATE_ADDRESS]],
      ] as const) {
        for (const address of addresses) await ipOk(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'veth0']);
      }
      await ipOk(['-n', netns.name, 'link', 'set', 'veth0', 'up']);
      await ipOk(['-n', netns.internet, 'link', 'set', 'veth0', 'up']);
    } catch (error) {
      await netns.destroy();
      throw error;
    }
    return netns;
  }

  /** argv run inside a namespace (the node's by default). */
  argv(command: readonly string[], namespace = this.name): string[] {
    return ['/usr/sbin/ip', 'netns', 'exec', namespace, ...command];
  }

  /** Adds an address to the node's loopback (e.g. the metadata address, to listen on it). */
  addLocalAddress(cidr: string): Promise<void> {
    return ipOk(['-n', this.name, 'addr', 'add', cidr, 'dev', 'lo']);
  }

  /** Starts listeners (as root) inside a namespace; resolves once every one accepts. */
  async listen(spec: Listeners, namespace = this.name): Promise<void> {
    const [command = '', ...args] = this.argv([process.execPath, '-e', LISTENER_SCRIPT, JSON.stringify(spec)], namespace);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.listeners.push(child);
    const [chunk] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => [Buffer.from('exited')])])) as [Buffer];
    if (chunk.toString().trim() !== 'ready') throw new Error('listeners did not start');
  }

  /** Stops the listeners by PID, then deletes both namespaces (the veth pair goes with them). */
  async destroy(): Promise<void> {
    for (const child of this.listeners) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    await exec(['/usr/sbin/ip', 'netns', 'del', this.name]);
    await exec(['/usr/sbin/ip', 'netns', 'del', this.internet]);
  }
}
