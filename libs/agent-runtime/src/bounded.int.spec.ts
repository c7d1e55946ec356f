import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAX_COMMAND_RUNS } from '@pressluft/domain';
import { createLogger } from '@pressluft/platform';
import { Command, CommandEvent, SiteConfig } from '@pressluft/proto';
import { Agent, type AgentOptions } from './agent.js';
import { FenceStore } from './fence-store.js';
import { CrashingAgent } from './testing/crashing-agent.js';
import { ScriptedHost } from './testing/scripted-host.js';

// A command must not own the agent: one that kills it every time, or never ends, is given up
// after a bound and ends FAILED with a reason the control plane records; the site moves on.
// The real runtime on the real NATS server, with consumers that redeliver after 1 s of silence.
describe('Agent: bounded deliveries and deadlines on the real NATS server', () => {
  const prefix = `bnd${randomBytes(3).toString('hex')}`;
  const fenceDirs: string[] = [];
  const events: CommandEvent[] = [];
  const agents: Agent[] = [];
  let nc: NatsConnection;

  const site = SiteConfig.fromPartial({ name: 'alpha', id: 'abc12345', domains: ['alpha.test'] });
  const send = async (node: string, id: string, fence: number, payload: Command['payload']) => {
    const data = Command.encode(Command.fromPartial({ ref: { id, node, site: 'alpha', fence }, payload })).finish();
    await jetstream(nc).publish(`${prefix}.cmd.${node}`, data, { msgID: `${id}@${fence}` });
  };
  const until = async <T>(what: string, probe: () => T | undefined, ms = 20_000): Promise<T> => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      const value = probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const outcome = (id: string) => events.find((e) => e.ref?.id === id && (e.kind?.$case === 'failed' || e.kind?.$case === 'succeeded'))?.kind;
  const kinds = (id: string) => events.filter((e) => e.ref?.id === id).map((e) => e.kind?.$case);

  const node = async (name: string) => {
    await (await jetstreamManager(nc)).consumers.add(`${prefix}_CMD`, {
      durable_name: `agent-${name}`,
      filter_subject: `${prefix}.cmd.${name}`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 1_000_000_000,
    });
    const dir = mkdtempSync(join(tmpdir(), 'agent-bounded-'));
    fenceDirs.push(dir);
    return dir;
  };
  const options = (name: string, fenceDir: string, host: ScriptedHost, extra: Partial<AgentOptions> = {}): AgentOptions => ({
    node: name,
    version: '0.0.0-test',
    bus: { url: inject('services').nats.url, stream: `${prefix}_CMD`, durable: `agent-${name}`, eventSubjectPrefix: `${prefix}.evt.${name}`, inboxPrefix: '_INBOX' },
    host,
    fences: new FenceStore(fenceDir),
    logger: createLogger({ name: 'agent-bounded-test', level: 'silent' }),
    heartbeatMs: 300,
    commandHeartbeatMs: 300,
    ...extra,
  });

  beforeAll(async () => {
    nc = await connect({ servers: inject('services').nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${prefix}_CMD`, subjects: [`${prefix}.cmd.>`] });
    await jsm.streams.add({ name: `${prefix}_EVT`, subjects: [`${prefix}.evt.>`] });
    const subscription = nc.subscribe(`${prefix}.evt.*.command`);
    void (async () => {
      for await (const message of subscription) events.push(CommandEvent.decode(message.data));
    })();
  });

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`${prefix}_CMD`).catch(() => undefined);
    await jsm.streams.delete(`${prefix}_EVT`).catch(() => undefined);
    await nc.close();
    for (const dir of fenceDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a command that kills the agent every time it runs is run 5 times, then FAILED PoisonCommand; the site\'s next command runs', async () => {
    const fenceDir = await node('crashy');
    await send('crashy', 'poison-1', 1, { $case: 'provisionSite', value: { site } });
    // Each life: the agent takes the command, the host operation never returns, the agent dies.
    let runs = 0;
    for (let life = 1; life <= MAX_COMMAND_RUNS; life++) {
      const host = new ScriptedHost();
      host.behaviour = 'hang';
      // Long enough that no deadline fires: only the deaths end these runs.
      const agent = new CrashingAgent(options('crashy', fenceDir, host, { commandDeadlineMs: 600_000 }));
      await agent.start();
      await until(`run ${life} started`, () => (host.hanging === 1 ? true : undefined));
      runs += host.calls.length;
      await agent.crash();
    }
    expect(runs).toBe(MAX_COMMAND_RUNS);
    expect(outcome('poison-1')).toBeUndefined();

    const host = new ScriptedHost();
    const agent = new Agent(options('crashy', fenceDir, host));
    agents.push(agent);
    await agent.start();
    const failed = await until('poison-1 given up', () => outcome('poison-1'));
    expect(failed).toEqual({
      $case: 'failed',
      value: {
        reason: 'PoisonCommand',
        message: expect.stringMatching(/^delivered \d+ times and started 5 times on this node without completing/) as unknown,
        retryAfterSeconds: 0,
      },
    });
    // Given up without running it again; the fence record says its result is out.
    expect(host.calls).toEqual([]);
    expect(new FenceStore(fenceDir).get('alpha')).toMatchObject({ fence: 1, command: 'poison-1', done: true });

    await send('crashy', 'next-2', 2, { $case: 'rotateCredentials', value: { siteId: 'abc12345' } });
    expect(await until('next-2 done', () => outcome('next-2'))).toMatchObject({ $case: 'succeeded' });
    expect(host.calls.map((c) => c.operation)).toEqual(['rotateDatabasePassword']);
  });

  it('a command whose host operation never returns ends FAILED CommandTimedOut at its deadline; the site\'s next command runs', async () => {
    const fenceDir = await node('wedged');
    const host = new ScriptedHost();
    const agent = new Agent(options('wedged', fenceDir, host, { commandDeadlineMs: 1500 }));
    agents.push(agent);
    await agent.start();
    host.behaviour = 'hang';
    await send('wedged', 'hang-1', 1, { $case: 'rollbackSite', value: { siteId: 'abc12345', release: '' } });
    const failed = await until('hang-1 timed out', () => outcome('hang-1'));
    expect(failed).toEqual({ $case: 'failed', value: { reason: 'CommandTimedOut', message: 'did not finish within 2 s; given up (its work on the host may still be ending)', retryAfterSeconds: 0 } });

    host.behaviour = 'succeed';
    await send('wedged', 'after-2', 2, { $case: 'rotateCredentials', value: { siteId: 'abc12345' } });
    expect(await until('after-2 done', () => outcome('after-2'))).toMatchObject({ $case: 'succeeded' });
    expect(host.calls.map((c) => c.operation)).toEqual(['rollbackTo', 'rotateDatabasePassword']);

    // The abandoned operation ending late says nothing more about its command, and is not run again.
    host.settleHung('succeed');
    await new Promise((r) => setTimeout(r, 1500));
    expect(kinds('hang-1').filter((k) => k !== 'heartbeat')).toEqual(['accepted', 'progress', 'failed']);
    expect(host.calls).toHaveLength(2);
  });
});
