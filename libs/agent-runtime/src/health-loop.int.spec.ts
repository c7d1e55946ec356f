import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { NodeHealth, SiteConfig, type Command } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Agent } from './agent.js';
import { FenceStore } from './fence-store.js';
import { ScriptedHost } from './testing/scripted-host.js';
import { TestBus } from './testing/test-bus.js';

// The runtime's health loop on the real NATS server: snapshots go out on transitions (not for a
// new latency), a site a command works on is neither supervised nor probed, and a report
// republishes the whole snapshot.
describe('health loop of the agent runtime', () => {
  const node = 'node-h';
  const fenceDir = mkdtempSync(join(tmpdir(), 'health-loop-'));
  const host = new ScriptedHost();
  const snapshots: NodeHealth[] = [];
  let bus: TestBus;
  let agent: Agent;

  const send = (id: string, fence: number, payload: Command['payload']) => bus.send('alpha', id, fence, payload, `${id}#${Date.now()}`);
  const until = async <T>(what: string, probe: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const latest = () => snapshots[snapshots.length - 1];
  const alpha = (snapshot: NodeHealth | undefined) => snapshot?.sites.find((s) => s.name === 'alpha');
  const serving = host.siteHealth;

  beforeAll(async () => {
    bus = await TestBus.start(inject('services').nats.url, 'hl', node);
    const subscription = bus.nc.subscribe(bus.events('health'));
    void (async () => {
      for await (const message of subscription) snapshots.push(NodeHealth.decode(message.data));
    })();
    host.services = [{ name: 'nginx', up: true, message: '', restarts: 0, crashLooping: false }];
    agent = new Agent({
      node,
      version: '0.0.0-test',
      bus: bus.settings,
      host,
      fences: new FenceStore(fenceDir),
      logger: createLogger({ name: 'health-loop-test', level: 'silent' }),
      heartbeatMs: 60_000,
      reportMs: 60_000,
      superviseMs: 50,
      probeMs: 100,
    });
    await agent.start();
  });

  afterAll(async () => {
    host.settleHung();
    await agent?.stop();
    await bus.close();
    rmSync(fenceDir, { recursive: true, force: true });
  });

  it('a converged site is supervised and probed; its snapshot goes out once', async () => {
    await send('alpha-1', 1, { $case: 'provisionSite', value: { site: SiteConfig.fromPartial({ name: 'alpha', id: 'abc12345', domains: ['alpha.test'] }) } });
    const first = await until('alpha SERVING', () => (alpha(latest())?.state === 'SERVING' ? latest() : undefined));
    expect(first.node).toBe(node);
    expect(first.services).toEqual([{ name: 'nginx', up: true, message: '', restarts: 0, crashLooping: false }]);
    await until('alpha supervised', () => (host.supervised.includes('alpha') ? true : undefined));
  });

  it('only transitions are published: a new latency is not news, a 500 is', async () => {
    const before = snapshots.length;
    host.siteHealth = (name) => ({ ...serving(name), probeSeconds: 0.5 });
    await new Promise((r) => setTimeout(r, 600));
    expect(snapshots.length).toBe(before);
    host.siteHealth = (name) => ({ ...serving(name), state: 'NOT_SERVING', reason: 'HttpStatus', httpStatus: 500, message: 'GET / answered 500' });
    const broken = await until('alpha NOT_SERVING', () => (alpha(latest())?.state === 'NOT_SERVING' ? latest() : undefined));
    expect(alpha(broken)).toMatchObject({ reason: 'HttpStatus', httpStatus: 500 });
    expect(snapshots.length).toBe(before + 1);
  });

  it('a site a command works on keeps its last sample and is not supervised; the command ends with a fresh snapshot', async () => {
    host.behaviour = 'hang';
    await send('alpha-2', 2, { $case: 'deploySite', value: { site: SiteConfig.fromPartial({ name: 'alpha', id: 'abc12345', domains: ['alpha.test'] }) } });
    await until('alpha-2 hanging', () => (host.hanging === 1 ? true : undefined));
    const before = snapshots.length;
    const supervisedBefore = host.supervised.length;
    host.siteHealth = serving;
    await new Promise((r) => setTimeout(r, 500));
    expect(snapshots.length).toBe(before);
    expect(host.supervised.length).toBe(supervisedBefore);
    host.behaviour = 'succeed';
    host.settleHung('succeed');
    await until('alpha SERVING again', () => (alpha(latest())?.state === 'SERVING' ? true : undefined));
    await until('alpha supervised again', () => (host.supervised.length > supervisedBefore ? true : undefined));
  });
});
