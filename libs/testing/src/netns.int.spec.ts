import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HARNESS_DIR_PREFIX, freePort } from './host.js';
import { hubNamespace, inNamespace, subnetOfIndex, IP } from './netns-names.js';
import { NETNS_REGISTRY, PrivateNetwork, sweepLeftovers, type Netns } from './netns.js';
import { ManagedProcess, pidAlive, run, sleep } from './process.js';

const NODE = process.execPath;
// Answers every connection with its first argument, on 0.0.0.0:<port>; a client gone mid-answer (reset) is no crash.
const SERVER = `require('net').createServer((s) => s.on('error', () => {}).end(process.argv[1])).listen(Number(process.argv[2]), '0.0.0.0')`;
// Prints OK:<answer> or ERR:<code> for one connection to <host> <port> (or a Unix socket path).
const CLIENT = `const [h, p] = process.argv.slice(1); const s = require('net').connect(p ? { host: h, port: Number(p) } : { path: h });
let d = ''; s.setTimeout(1500, () => { console.log('ERR:TIMEOUT'); process.exit(0); });
s.on('data', (c) => (d += c)); s.on('end', () => console.log('OK:' + d)); s.on('error', (e) => console.log('ERR:' + e.code));`;
// Connects every 2 ms until killed, one line per attempt: <epoch ms> <answer or error code>.
const LOOP = `const [h, p] = process.argv.slice(1); const net = require('net');
const once = () => { const s = net.connect({ host: h, port: Number(p) }); let d = ''; s.setTimeout(500, () => s.destroy(new Error('TIMEOUT')));
  s.on('data', (c) => (d += c)); s.on('close', () => setTimeout(once, 2));
  s.on('end', () => console.log(Date.now() + ' ' + d)); s.on('error', (e) => console.log(Date.now() + ' ERR:' + (e.code ?? e.message))); };
once();`;

const rootState = () => Promise.all([run([IP, '-o', 'link']), run([IP, '-o', 'addr']), run([IP, 'route']), run([IP, 'netns', 'list'])]);

describe('PrivateNetwork', () => {
  let logs: string;
  let before: string[];
  let net: PrivateNetwork;
  let a: Netns;
  let b: Netns;
  let c: Netns;

  const probe = async (from: Netns, host: string, port?: number) =>
    (await run(from.argv([NODE, '-e', CLIENT, host, ...(port === undefined ? [] : [String(port)])]))).trim();
  const serve = async (node: Netns, port: number, answer: string) => {
    const server = node.start(`${node.name}-${port}`, [NODE, '-e', SERVER, answer, String(port)], { logFile: join(logs, `${node.name}-${port}.log`) });
    await server.waitUntil(async () => (await probe(node, '127.0.0.1', port)) === `OK:${answer}`);
    return server;
  };

  beforeAll(async () => {
    logs = mkdtempSync(join(tmpdir(), `${HARNESS_DIR_PREFIX}netns-`));
    before = await rootState();
    net = await PrivateNetwork.create('spec');
    a = await net.addNode('a');
    b = await net.addNode('b');
    c = await net.addNode('c');
  });

  afterAll(async () => {
    await net.destroy();
    rmSync(logs, { recursive: true, force: true });
  });

  it('lets two nodes talk over the bridge by their addresses, and the hub reach both', async () => {
    await serve(a, 7000, 'from-a');
    expect(await probe(b, a.address, 7000)).toBe('OK:from-a');
    expect(await probe(net.hub, a.address, 7000)).toBe('OK:from-a');
    expect(a.address).toMatch(new RegExp(`^10\\.${net.subnet.a}\\.${net.subnet.b}\\.11$`));
  });

  it('keeps a node away from the machine: its loopback is its own, its only route the private subnet; Unix sockets are shared', async () => {
    const port = await freePort();
    const tcp = await listen(createServer((s) => s.end('root')), port);
    const socket = join(logs, 'root.sock');
    const unix = await listen(createServer((s) => s.end('unix')), socket);
    try {
      expect(await probe(a, '127.0.0.1', port)).toBe('ERR:ECONNREFUSED');
      expect((await a.ip(['-4', 'route'])).trim()).toBe(`10.${net.subnet.a}.${net.subnet.b}.0/24 dev eth0 proto kernel scope link src ${a.address}`);
      expect(await probe(a, socket)).toBe('OK:unix');
    } finally {
      tcp.close();
      unix.close();
    }
  });

  it('keeps networks apart: a node cannot reach another network’s node', async () => {
    const other = await PrivateNetwork.create('spec-other');
    try {
      const stranger = await other.addNode('stranger');
      await serve(stranger, 7000, 'stranger');
      expect(other.subnet).not.toEqual(net.subnet);
      expect(await probe(a, stranger.address, 7000)).toBe('ERR:ENETUNREACH');
      expect(await probe(other.hub, a.address, 7000)).toBe('ERR:ENETUNREACH');
    } finally {
      await other.destroy();
    }
  });

  it('moves a floating address from node a to node b without a failed connection from the hub', async () => {
    await serve(a, 7100, 'a');
    await serve(b, 7100, 'b');
    const floating = net.floatingAddress(0);
    await net.addAddress(floating, a);
    // Every other member has a's MAC cached for the address before the move.
    for (const member of [net.hub, b, c]) expect(await probe(member, floating, 7100)).toBe('OK:a');
    const loopLog = join(logs, 'loop.log');
    const loop = net.hub.start('loop', [NODE, '-e', LOOP, floating, '7100'], { logFile: loopLog });
    await loop.waitUntil(() => Promise.resolve(readFileSync(loopLog, 'utf8').includes(' a\n')));
    await sleep(200);
    const started = Date.now();
    await net.moveAddress(floating, a, b);
    const moved = Date.now();
    await sleep(300);
    await loop.stop();
    for (const member of [net.hub, a, c]) expect(`${member.name} ${await probe(member, floating, 7100)}`).toBe(`${member.name} OK:b`);

    const lines = readFileSync(loopLog, 'utf8').trim().split('\n').map((l) => l.split(' '));
    const failures = lines.filter(([, answer]) => answer?.startsWith('ERR:'));
    const firstB = lines.find(([, answer]) => answer === 'b');
    console.info(
      `floating address move: ${moved - started} ms for the ip commands, first answer from b ${Number(firstB?.[0]) - started} ms after the start, ` +
        `${lines.length} connections from the hub, ${failures.length} failed`,
    );
    expect(failures).toEqual([]);
    expect(lines.filter(([, answer]) => answer === 'a').length).toBeGreaterThan(0);
    expect(firstB).toBeDefined();
  });

  it('destroys what it made, even half-made and twice, and the machine’s own namespace is unchanged', async () => {
    const doomed = await PrivateNetwork.create('spec-doomed');
    const one = await doomed.addNode('one');
    const two = await doomed.addNode('two');
    const started = one.start('sleeper', [NODE, '-e', 'setInterval(() => {}, 1000)'], { logFile: join(logs, 'sleeper.log') });
    // Started outside the network's bookkeeping: found in the namespace and killed all the same.
    const stray = ManagedProcess.start('stray', inNamespace(doomed.hub.namespace, [NODE, '-e', 'setInterval(() => {}, 1000)']), { logFile: join(logs, 'stray.log') });
    await started.waitUntil(async () => (await run([IP, 'netns', 'pids', one.namespace])).includes(String(started.pid)));
    await stray.waitUntil(async () => (await run([IP, 'netns', 'pids', doomed.hub.namespace])).includes(String(stray.pid)));
    await run([IP, 'netns', 'del', two.namespace]);

    await doomed.destroy();
    await doomed.destroy();

    const list = await run([IP, 'netns', 'list']);
    for (const ns of [doomed.hub.namespace, one.namespace, two.namespace]) expect(list).not.toContain(ns);
    expect(await exited(started)).toBe(true);
    expect(await exited(stray)).toBe(true);
    expect(existsSync(join(NETNS_REGISTRY, `${doomed.hub.namespace}.json`))).toBe(false);
    await expect(doomed.addNode('late')).rejects.toThrow(/destroyed/);
  });

  it('sweeps a crashed run’s namespaces and the processes in them, and leaves live networks alone', async () => {
    let index = 0;
    while (existsSync(join(NETNS_REGISTRY, `${hubNamespace(subnetOfIndex(index))}.json`))) index++;
    const orphan = hubNamespace(subnetOfIndex(index));
    await run([IP, 'netns', 'add', orphan]);
    const left = ManagedProcess.start('left', inNamespace(orphan, [NODE, '-e', 'setInterval(() => {}, 1000)']), { logFile: join(logs, 'left.log') });
    await left.waitUntil(async () => (await run([IP, 'netns', 'pids', orphan])).includes(String(left.pid)));

    const swept = await sweepLeftovers();

    expect(swept).toContain(orphan);
    for (const ns of [net.hub, a, b, c].map((m) => m.namespace)) expect(swept).not.toContain(ns);
    expect(await run([IP, 'netns', 'list'])).not.toContain(`${orphan} `);
    expect(await exited(left)).toBe(true);
    expect(await probe(b, a.address, 7000)).toBe('OK:from-a');
  });

  it('left the machine’s own interfaces, addresses and routes as they were', async () => {
    const after = await rootState();
    expect(after.slice(0, 3)).toEqual(before.slice(0, 3));
  });
});

/** True once the process has exited (a killed child is reaped on the event loop, not at once). */
async function exited(child: ManagedProcess): Promise<boolean> {
  for (let i = 0; i < 100 && child.running; i++) await sleep(20);
  return !child.running && !pidAlive(child.pid);
}

function listen(server: Server, where: number | string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (typeof where === 'number') server.listen(where, '127.0.0.1', () => resolve(server));
    else server.listen(where, () => resolve(server));
  });
}
