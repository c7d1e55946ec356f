import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FenceVerdict } from '@pressluft/domain';
import { createLogger } from '@pressluft/platform';
import { CommandEvent, SiteConfig, type Command } from '@pressluft/proto';
import { Agent } from './agent.js';
import { FenceStore } from './fence-store.js';
import { ScriptedHost } from './testing/scripted-host.js';
import { TestBus } from './testing/test-bus.js';

// The real runtime (bus loop, fence store, per-site queue) on the real NATS server, plain
// connection, with the durable consumer the test creates and a scripted host.
describe('Agent with a ScriptedHost on the real NATS server', () => {
  const node = 'node-a';
  const fenceDir = mkdtempSync(join(tmpdir(), 'agent-runtime-'));
  const host = new ScriptedHost();
  const seen: Array<{ id: string; verdict: FenceVerdict }> = [];
  const events: CommandEvent[] = [];
  const muted = new Set<string>();
  let bus: TestBus;
  let agent: Agent;

  const site = (name: string): SiteConfig => SiteConfig.fromPartial({ name, id: 'abc12345', domains: [`${name}.test`] });
  const send = (id: string, fence: number, payload: Command['payload']) => bus.send('alpha', id, fence, payload, `${id}@${fence}#${Date.now()}`);
  const until = async <T>(what: string, probe: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const kinds = (id: string) => events.filter((e) => e.ref?.id === id).map((e) => e.kind?.$case);

  beforeAll(async () => {
    bus = await TestBus.start(inject('services').nats.url, 'art', node);
    const subscription = bus.nc.subscribe(bus.events('command'));
    void (async () => {
      for await (const message of subscription) events.push(CommandEvent.decode(message.data));
    })();
    host.fingerprintSet = { wpConfig: 'b'.repeat(64) };
    agent = new Agent({
      node,
      version: '0.0.0-test',
      bus: bus.settings,
      host,
      fences: new FenceStore(fenceDir),
      logger: createLogger({ name: 'agent-runtime-test', level: 'silent' }),
      heartbeatMs: 300,
      observer: { commandReceived: (command, verdict) => seen.push({ id: command.ref?.id ?? '', verdict }) },
      dropCommandEvents: (ref) => muted.has(ref.id),
    });
    await agent.start();
  });

  afterAll(async () => {
    host.settleHung();
    await agent?.stop();
    await bus.close();
    rmSync(fenceDir, { recursive: true, force: true });
  });

  it('runs a provision on the host and publishes accepted, progress and succeeded with the fingerprints', async () => {
    await send('alpha-1', 1, { $case: 'provisionSite', value: { site: site('alpha') } });
    await until('alpha-1 succeeded', () => (kinds('alpha-1').includes('succeeded') ? true : undefined));
    expect(kinds('alpha-1')).toEqual(['accepted', 'progress', 'succeeded']);
    const succeeded = events.find((e) => e.ref?.id === 'alpha-1' && e.kind?.$case === 'succeeded')?.kind;
    expect(succeeded?.$case === 'succeeded' ? succeeded.value.site?.fingerprints : undefined).toEqual({ wpConfig: 'b'.repeat(64) });
    expect(host.calls).toEqual([{ operation: 'provision', site: 'alpha', id: 'abc12345' }]);
    expect(seen).toEqual([{ id: 'alpha-1', verdict: 'apply' }]);
  });

  it('acks a redelivered finished command without running it, and rejects an older fence', async () => {
    await send('alpha-1', 1, { $case: 'provisionSite', value: { site: site('alpha') } });
    await send('alpha-0', 0, { $case: 'deleteSite', value: { siteId: 'abc12345' } });
    await until('alpha-0 rejected', () => (kinds('alpha-0').includes('rejected') ? true : undefined));
    expect(seen.slice(1)).toEqual([
      { id: 'alpha-1', verdict: 'duplicate' },
      { id: 'alpha-0', verdict: 'stale' },
    ]);
    expect(host.calls).toHaveLength(1);
    expect(kinds('alpha-1')).toEqual(['accepted', 'progress', 'succeeded']);
  });

  it('fails as told, hangs until released, and can take a command without a word', async () => {
    host.behaviour = 'fail';
    await send('alpha-2', 2, { $case: 'rotateCredentials', value: { siteId: 'abc12345' } });
    await until('alpha-2 failed', () => (kinds('alpha-2').includes('failed') ? true : undefined));
    host.behaviour = 'hang';
    await send('alpha-3', 3, { $case: 'rollbackSite', value: { siteId: 'abc12345', release: '' } });
    await until('alpha-3 hanging', () => (host.hanging === 1 ? true : undefined));
    expect(kinds('alpha-3')).toEqual(['accepted', 'progress']);
    host.behaviour = 'succeed';
    host.settleHung('succeed');
    await until('alpha-3 succeeded', () => (kinds('alpha-3').includes('succeeded') ? true : undefined));
    muted.add('alpha-4');
    await send('alpha-4', 4, { $case: 'checkDrift', value: { siteId: 'abc12345' } });
    await until('alpha-4 received', () => seen.find((s) => s.id === 'alpha-4'));
    await send('alpha-5', 5, { $case: 'checkDrift', value: { siteId: 'abc12345' } });
    await until('alpha-5 succeeded', () => (kinds('alpha-5').includes('succeeded') ? true : undefined));
    expect(kinds('alpha-4')).toEqual([]);
    expect(host.calls.map((c) => c.operation)).toEqual(['provision', 'rotateDatabasePassword', 'rollbackTo']);
  });
});
