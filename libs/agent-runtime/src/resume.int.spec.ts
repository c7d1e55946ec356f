import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '@pressluft/platform';
import { CommandEvent, SiteConfig, type Command } from '@pressluft/proto';
import type { Agent, AgentOptions } from './agent.js';
import { FenceStore } from './fence-store.js';
import { CrashingAgent } from './testing/crashing-agent.js';
import { ScriptedHost } from './testing/scripted-host.js';
import { TestBus } from './testing/test-bus.js';

// A DeleteSite that fails halfway, or is cut off by a crash, and an agent restart after it: the
// restarted agent resumes the removal (host remove), never a provision that would bring the site back.
describe('Agent restart after a partial DeleteSite (real NATS, ScriptedHost)', () => {
  const node = 'node-r';
  const fenceDir = mkdtempSync(join(tmpdir(), 'agent-resume-'));
  const host = new ScriptedHost();
  const events: CommandEvent[] = [];
  const agents: Agent[] = [];
  let bus: TestBus;

  const config = (name: string): SiteConfig => SiteConfig.fromPartial({ name, id: 'abc12345', domains: [`${name}.test`] });
  const send = (site: string, id: string, fence: number, payload: Command['payload']) => bus.send(site, id, fence, payload);
  const until = async (what: string, probe: () => boolean): Promise<void> => {
    for (let i = 0; i < 300; i++) {
      if (probe()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const kinds = (id: string) => events.filter((e) => e.ref?.id === id).map((e) => e.kind?.$case);
  const options = (): AgentOptions => ({
    node,
    version: '0.0.0-test',
    bus: bus.settings,
    host,
    fences: new FenceStore(fenceDir),
    logger: createLogger({ name: 'agent-resume-test', level: 'silent' }),
    heartbeatMs: 300,
  });
  const startAgent = async (): Promise<CrashingAgent> => {
    const agent = new CrashingAgent(options());
    agents.push(agent);
    await agent.start();
    return agent;
  };
  const provisioned = async (site: string, id: string): Promise<void> => {
    await send(site, id, 1, { $case: 'provisionSite', value: { site: config(site) } });
    await until(`${id} succeeded`, () => kinds(id).includes('succeeded'));
  };

  beforeAll(async () => {
    // A short ack wait: the command a crashed agent held comes back within seconds.
    bus = await TestBus.start(inject('services').nats.url, 'rsm', node, { ack_wait: nanos(2000) });
    const subscription = bus.nc.subscribe(bus.events('command'));
    void (async () => {
      for await (const message of subscription) events.push(CommandEvent.decode(message.data));
    })();
  });

  afterAll(async () => {
    host.settleHung();
    for (const agent of agents) await agent.stop().catch(() => undefined);
    await bus.close();
    rmSync(fenceDir, { recursive: true, force: true });
  });

  it('a DeleteSite that failed halfway is removed again on restart, not provisioned', async () => {
    const first = await startAgent();
    await provisioned('alpha', 'alpha-1');
    host.behaviour = 'fail';
    await send('alpha', 'alpha-2', 2, { $case: 'deleteSite', value: { siteId: 'abc12345' } });
    await until('alpha-2 failed', () => kinds('alpha-2').includes('failed'));
    await first.stop();
    host.behaviour = 'succeed';
    const before = host.calls.length;

    await startAgent();
    expect(host.calls.slice(before)).toEqual([{ operation: 'remove', site: 'alpha', id: 'abc12345' }]);
    const fences = new FenceStore(fenceDir);
    expect(fences.get('alpha')).toMatchObject({ fence: 2, command: 'alpha-2', deleting: true, deleted: true });
    expect(fences.appliedConfigs().has('alpha')).toBe(false);
  });

  it('a DeleteSite cut off by a crash is removed on restart and its redelivery finishes it, with no provision in between', async () => {
    const [running] = agents.slice(-1);
    if (!(running instanceof CrashingAgent)) throw new Error('no agent running');
    await provisioned('beta', 'beta-1');
    host.behaviour = 'hang';
    await send('beta', 'beta-2', 2, { $case: 'deleteSite', value: { siteId: 'abc12345' } });
    await until('beta-2 hanging', () => host.hanging === 1);
    await running.crash();
    // The killed agent's hung step ends; nothing it says reaches the bus and nothing is recorded after.
    host.settleHung('fail');
    host.behaviour = 'succeed';
    const before = host.calls.length;

    await startAgent();
    await until('beta-2 redelivered and succeeded', () => kinds('beta-2').includes('succeeded'));
    expect(host.calls.slice(before)).toEqual([
      { operation: 'remove', site: 'beta', id: 'abc12345' },
      { operation: 'remove', site: 'beta', id: 'abc12345' },
    ]);
    expect(new FenceStore(fenceDir).get('beta')).toMatchObject({ command: 'beta-2', done: true, deleted: true });
  });
});
