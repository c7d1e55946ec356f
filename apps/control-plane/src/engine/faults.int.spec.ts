import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type EngineScenario, V1, nodeManifest, siteManifest, until, type ControlPlaneReplica, type TestAgent } from '@pressluft/e2e-harness';
import { commandSubject } from '@pressluft/platform';
import { Command } from '@pressluft/proto';
import { describe, expect, it } from 'vitest';
import { useProcessHarness } from '../../test/process-harness.js';

/**
 * The reconcile engine under crashes and restarts, with the control plane as real OS processes
 * (compiled once), its own PostgreSQL and NATS (restarted by the tests) and the test agent.
 * Every test has its own database, node and site names (JetStream dedups by command name).
 */
describe('reconcile engine faults: no change lost, no command run twice', () => {
  const shared = useProcessHarness();
  const newScenario = (label: string): Promise<EngineScenario> => shared.scenario(label);

  /** A leader replica, a node with a heartbeating agent, Ready. */
  async function leaderWithNode(s: EngineScenario, replicaName: string, node: string, options: Parameters<EngineScenario['spawn']>[1] = {}): Promise<{ replica: ControlPlaneReplica; agent: TestAgent }> {
    const replica = await s.spawn(replicaName, options);
    await until(`${replicaName} leading`, async () => ((await replica.leaderGauge()) === 1 ? true : undefined), 15_000, () => replica.logTail());
    await s.create(replica, 'nodes', nodeManifest(node));
    const agent = await s.startAgent(node);
    await s.waitNodeReady(replica, node);
    return { replica, agent };
  }

  const applied = (agent: TestAgent, site: string) => agent.received.filter((r) => r.command.ref?.site === site);

  it('SIGKILL right after the command transaction: the next leader publishes the outbox row once, the agent runs it once, the site becomes ACTIVE', async () => {
    const s = await newScenario('crash_commit');
    const { replica: r1, agent } = await leaderWithNode(s, 'r1-after-command-commit', 'node-commit', { fault: 'after-command-commit' });
    // A standby without the fault; it can take over only once r1's lease has expired.
    const r2 = await s.spawn('r2');

    await s.create(r1, 'sites', siteManifest('crash-commit', 'node-commit'));
    await r1.waitExit();
    // The crash came after the commit: the command, the fence and the outbox row are durable, nothing is on the bus.
    expect((await s.commands('crash-commit')).map((c) => [c.name, c.fence, c.state])).toEqual([['crash-commit-1', 1, 'PENDING']]);
    expect(await s.outbox('crash-commit-1')).toEqual([{ sent: false }]);
    expect(await s.storedCommands('node-commit')).toBe(0);

    const site = await s.waitActive(r2, 'crash-commit');
    // r2 took the lease over (epoch 2) and did the rest.
    expect(await r2.leaderGauge()).toBe(1);
    expect((await s.lease())?.epoch).toBe(2);
    expect(site.status).toMatchObject({ fence: 1, nodeName: 'node-commit', observedGeneration: 1 });
    expect(applied(agent, 'crash-commit').map((r) => [r.command.ref?.fence, r.verdict])).toEqual([[1, 'apply']]);
    expect(await s.storedCommands('node-commit')).toBe(1);
    expect(await s.outbox('crash-commit-1')).toEqual([{ sent: true }]);
    expect((await s.commands('crash-commit')).map((c) => [c.name, c.fence, c.state, c.log])).toEqual([['crash-commit-1', 1, 'SUCCEEDED', ['converge (50%)']]]);
  });

  it('SIGKILL after publish, before mark-sent: the next leader republishes, JetStream drops the duplicate, the command runs once', async () => {
    const s = await newScenario('crash_publish');
    const { replica: r1, agent: first } = await leaderWithNode(s, 'r1-after-publish', 'node-publish', { fault: 'after-publish' });
    const r2 = await s.spawn('r2');
    // The node stops pulling while the leader dies, so nothing it sends back races the crash;
    // its durable consumer keeps the command for the agent's return.
    await s.stopAgent(first);

    await s.create(r1, 'sites', siteManifest('crash-publish', 'node-publish'));
    await r1.waitExit();
    // Published (JetStream acknowledged it) but never marked sent.
    expect(await s.storedCommands('node-publish')).toBe(1);
    expect(await s.outbox('crash-publish-1')).toEqual([{ sent: false }]);
    expect(applied(first, 'crash-publish')).toEqual([]);

    const agent = await s.startAgent('node-publish');
    const site = await s.waitActive(r2, 'crash-publish');
    // r2 took the lease over (epoch 2) and did the rest.
    expect(await r2.leaderGauge()).toBe(1);
    expect((await s.lease())?.epoch).toBe(2);
    expect(site.status.fence).toBe(1);
    // The republish was acknowledged as a duplicate: still one stored message, run once.
    expect(await s.outbox('crash-publish-1')).toEqual([{ sent: true }]);
    expect(await s.storedCommands('node-publish')).toBe(1);
    const received = applied(agent, 'crash-publish');
    expect(received.filter((r) => r.verdict === 'apply').map((r) => r.command.ref?.fence)).toEqual([1]);
    expect(received.every((r) => r.verdict === 'apply' || r.verdict === 'duplicate')).toBe(true);
    expect((await s.commands('crash-publish')).map((c) => [c.name, c.state, c.log])).toEqual([['crash-publish-1', 'SUCCEEDED', ['converge (50%)']]]);
  });

  it('SIGKILL during ingest: the event is redelivered to the next leader and applied exactly once', async () => {
    const s = await newScenario('crash_ingest');
    const { replica: r1, agent } = await leaderWithNode(s, 'r1-during-ingest', 'node-ingest', { fault: 'during-ingest' });
    const r2 = await s.spawn('r2');

    await s.create(r1, 'sites', siteManifest('crash-ingest', 'node-ingest'));
    await r1.waitExit();
    // The receipt and the command update were in one transaction: both rolled back (the command
    // stays as the relay left it: on the bus, not yet answered). The relay marks it DISPATCHED
    // after the bus acknowledged the publish; a fast agent's event can reach the crashing ingest
    // before that mark commits, so PENDING (published, to be published again under the same
    // message id by the next leader) is the same situation.
    expect(await s.sql(`SELECT sequence FROM command_event_receipts WHERE command = 'crash-ingest-1'`)).toEqual([]);
    const [stored] = await s.commands('crash-ingest');
    expect(['PENDING', 'DISPATCHED']).toContain(stored?.state);
    expect(stored?.log).toEqual([]);
    expect(applied(agent, 'crash-ingest').map((r) => r.verdict)).toEqual(['apply']);

    // The dead leader's unacknowledged events come back after the consumer's ack wait (30 s).
    const site = await s.waitActive(r2, 'crash-ingest', 50_000);
    // r2 took the lease over (epoch 2) and did the rest.
    expect(await r2.leaderGauge()).toBe(1);
    expect((await s.lease())?.epoch).toBe(2);
    expect(site.status.fence).toBe(1);
    const [command] = await s.commands('crash-ingest');
    expect(command).toMatchObject({ name: 'crash-ingest-1', state: 'SUCCEEDED', log: ['converge (50%)'] });
    const receipts = await s.sql<{ sequence: string }>(`SELECT sequence::text FROM command_event_receipts WHERE command = 'crash-ingest-1' ORDER BY sequence`);
    expect(receipts.map((r) => r.sequence)).toEqual(['1', '2', '3']);
    const succeeded = await s.call<{ items: Array<{ reason: string; count: number }> }>(r2, `${V1}/events?involvedObject=sites/crash-ingest`);
    expect(succeeded.body.items.filter((e) => e.reason === 'CommandSucceeded').map((e) => e.count)).toEqual([1]);
    expect(applied(agent, 'crash-ingest').map((r) => r.verdict)).toEqual(['apply']);
  }, 75_000);

  it('NATS restarted: the command waits in the outbox, then the relay resumes and the site becomes ACTIVE', async () => {
    const s = await newScenario('nats_restart');
    const { replica, agent: before } = await leaderWithNode(s, 'r1', 'node-nats');
    await s.stopAgent(before);
    const nats = shared.harness().nats;
    if (!nats) throw new Error('no NATS');

    await nats.stop();
    try {
      await s.create(replica, 'sites', siteManifest('nats-restart', 'node-nats'));
      await until('the command issued', async () => ((await s.outbox('nats-restart-1')).length === 1 ? true : undefined), 15_000, () => replica.logTail());
      // No bus: the command stays unsent (the relay keeps trying); the API keeps serving.
      await until('readyz 503', async () => ((await s.call(replica, '/readyz')).status === 503 ? true : undefined), 10_000);
      expect(await s.outbox('nats-restart-1')).toEqual([{ sent: false }]);
      expect((await s.site(replica, 'nats-restart'))?.status.phase).toBe('PROVISIONING');
    } finally {
      await nats.start();
    }

    const agent = await s.startAgent('node-nats');
    const site = await s.waitActive(replica, 'nats-restart', 30_000);
    expect(site.status.fence).toBe(1);
    expect(await s.outbox('nats-restart-1')).toEqual([{ sent: true }]);
    expect(await s.storedCommands('node-nats')).toBe(1);
    expect(applied(agent, 'nats-restart').map((r) => [r.command.ref?.fence, r.verdict])).toEqual([[1, 'apply']]);
    expect((await s.call(replica, '/readyz')).status).toBe(200);
  }, 60_000);

  it('PostgreSQL restarted: the leader loses and regains the lease, and a site created afterwards becomes ACTIVE', async () => {
    const s = await newScenario('pg_restart');
    const { replica } = await leaderWithNode(s, 'r1', 'node-pg');
    const postgres = shared.harness().postgres;
    if (!postgres) throw new Error('no PostgreSQL');
    const epoch = (await s.lease())?.epoch ?? 0;

    await postgres.stop();
    try {
      await until('readyz 503', async () => ((await s.call(replica, '/readyz')).status === 503 ? true : undefined), 10_000);
      // Renewals fail: past the lease TTL the replica stops its loops.
      await until('the loops stopped', async () => ((await replica.leaderGauge()) === 0 ? true : undefined), 10_000, () => replica.logTail());
      expect(replica.running).toBe(true);
    } finally {
      await postgres.start();
    }

    await until('leading again', async () => ((await replica.leaderGauge()) === 1 ? true : undefined), 15_000, () => replica.logTail());
    expect((await s.lease())?.epoch).toBeGreaterThan(epoch);
    await s.create(replica, 'sites', siteManifest('pg-restart', 'node-pg'));
    const site = await s.waitActive(replica, 'pg-restart', 20_000);
    expect(site.status.fence).toBe(1);
    expect((await s.commands('pg-restart')).map((c) => [c.name, c.state])).toEqual([['pg-restart-1', 'SUCCEEDED']]);
    const log = replica.logLines().map((l) => String(l['msg']));
    expect(log).toContain('lease renewal failed');
    expect(log).toContain('engine: loops stopped');
  }, 60_000);

  it('a duplicated and a reordered (older fence) command: the node rejects the older fence, nothing runs twice, the site and its fence stay', async () => {
    const s = await newScenario('reorder');
    const { replica, agent } = await leaderWithNode(s, 'r1', 'node-reorder');
    await s.create(replica, 'sites', siteManifest('reorder', 'node-reorder'));
    await s.waitActive(replica, 'reorder');
    const patched = await s.call(replica, `${V1}/sites/reorder`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Reorder Two' } } } });
    expect(patched.status).toBe(200);
    await until('generation 2 converged', async () => {
      const site = await s.site(replica, 'reorder');
      // Settled: the certificate controller (ACME off in tests) has said so too.
      return site?.status.observedGeneration === 2 && site.status.phase === 'ACTIVE' && site.status.conditions?.some((c) => c.type === 'CertificateReady') ? site : undefined;
    });
    const [older, latest] = applied(agent, 'reorder').map((r) => r.command);
    if (!older || !latest) throw new Error('expected two commands');
    expect([older.ref?.fence, latest.ref?.fence]).toEqual([1, 2]);
    const before = await s.commands('reorder');
    const siteBefore = await s.site(replica, 'reorder');

    // New message ids, so JetStream stores both: the bus delivered a stale and a repeated command.
    const nc = await connect({ servers: s.natsUrl });
    try {
      const js = jetstream(nc);
      await js.publish(commandSubject('node-reorder'), Command.encode(older).finish(), { msgID: `${older.ref?.id ?? ''}-replayed` });
      await js.publish(commandSubject('node-reorder'), Command.encode(latest).finish(), { msgID: `${latest.ref?.id ?? ''}-repeated` });
    } finally {
      await nc.close();
    }
    await until('the node saw both', () => (applied(agent, 'reorder').length === 4 ? true : undefined), 10_000);
    expect(applied(agent, 'reorder').map((r) => [r.command.ref?.fence, r.verdict])).toEqual([
      [1, 'apply'],
      [2, 'apply'],
      [1, 'stale'],
      [2, 'duplicate'],
    ]);
    // The node's REJECTED answer about the stale fence (a new sequence, so it is not deduplicated) must not undo a finished command.
    await agent.sendEvent(older, 4, { $case: 'rejected', value: { reason: 'StaleFence', message: 'fence 1 is older than 2' } });
    // Events are ingested in order: once this one has its receipt, the stale fence's REJECTED event was handled (or deduplicated) before it.
    await until('the late REJECTED event ingested', async () => {
      const rows = await s.sql(`SELECT 1 FROM command_event_receipts WHERE command = $1 AND sequence = 4`, [older.ref?.id]);
      return rows.length === 1 ? true : undefined;
    }, 10_000, () => replica.logTail());

    expect(await s.commands('reorder')).toEqual(before);
    const site = await s.site(replica, 'reorder');
    expect(site?.status).toMatchObject({ phase: 'ACTIVE', fence: 2, observedGeneration: 2 });
    expect(site?.metadata.resourceVersion).toBe(siteBefore?.metadata.resourceVersion);
  });
});
