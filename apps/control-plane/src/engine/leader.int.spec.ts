import { type EngineScenario, nodeManifest, siteManifest, until, type ControlPlaneReplica, type LeaseRow } from '@pressluft/e2e-harness';
import { pgQuery } from '@pressluft/testing';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useProcessHarness } from '../../test/process-harness.js';

/**
 * Leader election between control plane replicas as real OS processes on one database: one
 * lease row, renewed by its holder; the others stand by. SIGTERM hands the lease over; SIGSTOP
 * (a frozen process) lets it expire, and the frozen leader's late writes must be refused.
 */
describe('leader election between control plane replicas', () => {
  const shared = useProcessHarness();
  const newScenario = (label: string): Promise<EngineScenario> => shared.scenario(label);

  /** Waits until exactly one of the replicas reports pressluft_leader 1 and the lease row names it. */
  async function soleLeader(s: EngineScenario, replicas: ControlPlaneReplica[], timeoutMs = 15_000): Promise<{ leader: ControlPlaneReplica; standbys: ControlPlaneReplica[]; lease: LeaseRow }> {
    return until(
      'exactly one leader',
      async () => {
        const gauges = await Promise.all(replicas.map((r) => r.leaderGauge()));
        const lease = await s.lease();
        const leaders = replicas.filter((_, i) => gauges[i] === 1);
        const [leader] = leaders;
        if (leaders.length !== 1 || !leader || !lease || lease.expired || !leader.holds(lease.holder)) return undefined;
        if (gauges.some((g) => g !== 0 && g !== 1)) return undefined;
        return { leader, standbys: replicas.filter((r) => r !== leader), lease };
      },
      timeoutMs,
      async () => `gauges ${JSON.stringify(await Promise.all(replicas.map((r) => r.leaderGauge())))}, lease ${JSON.stringify(await s.lease())}`,
    );
  }

  it('two replicas on one database: exactly one holds the lease; SIGTERM on the leader hands it over at once with epoch + 1', async () => {
    const s = await newScenario('two_replicas');
    // A long TTL: a prompt takeover can only come from the hand-over, not from the expiry.
    const env = { PRESSLUFT_LEASE_TTL_MS: '10000', PRESSLUFT_LEASE_RENEW_MS: '300' };
    const replicas = await Promise.all([s.spawn('a', { env }), s.spawn('b', { env })]);
    const { leader, standbys, lease } = await soleLeader(s, replicas);
    const [standby] = standbys;
    if (!standby) throw new Error('no standby');

    // Stable over several renewals: same holder, same epoch, the standby stays out.
    const watchUntil = Date.now() + 1500;
    while (Date.now() < watchUntil) {
      const now = await s.lease();
      expect(now).toMatchObject({ holder: lease.holder, epoch: lease.epoch, expired: false });
      expect(await standby.leaderGauge()).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
    }

    const stopped = Date.now();
    await leader.stop();
    const taken = await until('the standby leads', async () => {
      const now = await s.lease();
      return now && standby.holds(now.holder) && (await standby.leaderGauge()) === 1 ? now : undefined;
    }, 10_000, () => standby.logTail());
    const takeoverMs = Date.now() - stopped;
    expect(taken.epoch).toBe(lease.epoch + 1);
    expect(takeoverMs).toBeLessThan(3000);
    expect(leader.running).toBe(false);
    expect(leader.logLines().map((l) => l['msg'])).toContain('engine: loops stopped');
  });

  it('the leader SIGSTOPped past its lease: the standby takes over within 15 s and keeps the engine working; the old leader, resumed, has its late writes refused and stops', async () => {
    const s = await newScenario('paused_leader');
    // The leader to be frozen has a short stall window, the standby a long one: so the only replica
    // that wants to write about the hanging command below is the frozen one, once it runs again.
    const old = await s.spawn('a-short-stall-window', { env: { PRESSLUFT_STALL_WINDOW_MS: '2000' } });
    await until('a leading', async () => ((await old.leaderGauge()) === 1 ? true : undefined), 15_000, () => old.logTail());
    const standby = await s.spawn('b');
    const { lease } = await soleLeader(s, [old, standby]);
    expect(old.holds(lease.holder)).toBe(true);
    await s.create(old, 'nodes', nodeManifest('node-pause'));
    const agent = await s.startAgent('node-pause');
    await s.waitNodeReady(old, 'node-pause');

    // A command that starts and then goes silent; freeze the leader before its stall window ends.
    agent.behaviour = 'hang';
    await s.create(old, 'sites', siteManifest('hanging', 'node-pause'));
    await until('hanging-1 RUNNING', async () => ((await s.commands('hanging'))[0]?.state === 'RUNNING' ? true : undefined), 10_000, () => old.logTail());
    old.pause();
    const paused = Date.now();
    agent.behaviour = 'succeed';
    expect((await s.commands('hanging'))[0]?.state).toBe('RUNNING');

    const taken = await until('the standby leads', async () => {
      const now = await s.lease();
      return now && standby.holds(now.holder) && (await standby.leaderGauge()) === 1 ? now : undefined;
    }, 20_000, () => standby.logTail());
    const takeoverMs = Date.now() - paused;
    // Not before the lease expired (TTL 3 s, renewed every 300 ms), and well within 15 s.
    expect(takeoverMs).toBeGreaterThanOrEqual(2000);
    expect(takeoverMs).toBeLessThan(15_000);
    expect(taken.epoch).toBe(lease.epoch + 1);
    // The very check every leader-only write makes (fence): the old holder at its epoch no longer passes.
    const fence = await pgQuery(s.database.url, `SELECT 1 FROM leases WHERE name = 'controller' AND holder = $1 AND epoch = $2 AND expires_at > now() FOR SHARE`, [lease.holder, lease.epoch]);
    expect(fence.rowCount).toBe(0);

    // The engine keeps working under the new leader while the old one stays frozen: several new
    // sites (their agent events are spread over the ingest consumer's waiting pull requests).
    const fresh = ['after-pause-1', 'after-pause-2', 'after-pause-3'];
    for (const name of fresh) await s.create(standby, 'sites', siteManifest(name, 'node-pause'));
    const created = Date.now();
    const whileFrozen = await until('the new sites ACTIVE while the old leader is frozen', async () => {
      const sites = await Promise.all(fresh.map((name) => s.site(standby, name)));
      return sites.every((site) => site?.status.phase === 'ACTIVE') ? true : undefined;
    }, 15_000).catch(async () => {
      const phases = await Promise.all(fresh.map(async (name) => `${name}: ${(await s.site(standby, name))?.status.phase ?? '?'}`));
      return `after ${Date.now() - created} ms ${phases.join(', ')}; event consumer ${JSON.stringify(await s.ingestBacklog())} (ackPending: handed to a pull request, not acknowledged)`;
    });
    expect.soft(whileFrozen, 'sites created under the new leader converge within 15 s while the old leader is frozen').toBe(true);

    old.resume();
    await until('the old leader stops its loops', async () => ((await old.leaderGauge()) === 0 ? true : undefined), 10_000, () => old.logTail());
    // Its overdue stall sweep (hanging-1 silent past its window) or the events it had fetched before
    // it froze, whichever runs first on a busy machine: the late write is refused.
    const refused = await until('the old leader\'s refused write in its log', () => {
      const lines = old.logLines().filter((l) => (l['err'] as { type?: string } | undefined)?.type === 'DeposedError');
      return lines.length > 0 ? lines : undefined;
    }, 20_000, () => old.logTail());
    expect(refused.every((l) => /not the leader/.test(String((l['err'] as { message?: string }).message)))).toBe(true);
    // Stopping the loops is asynchronous (the relay, the ingest and the queue drain first).
    await until('the old leader logs its loops stopped', () => {
      const messages = old.logLines().map((l) => l['msg']);
      return messages.includes('leader: lease lost; loops stopped') && messages.includes('engine: loops stopped') ? true : undefined;
    }, 10_000, () => old.logTail());
    const [hanging] = await s.commands('hanging');
    expect(hanging?.state).toBe('RUNNING');
    expect(await s.sql(`SELECT 1 FROM resources WHERE kind = 'Event' AND spec ->> 'reason' = 'CommandStalled'`)).toEqual([]);

    // Nothing lost, nothing doubled; the new leader still holds the lease.
    for (const name of fresh) await s.waitActive(standby, name, 15_000);
    const after = await s.lease();
    expect(after && standby.holds(after.holder)).toBe(true);
    expect(after?.epoch).toBe(taken.epoch);
    expect(await standby.leaderGauge()).toBe(1);
    expect(await s.sql(`SELECT spec ->> 'site', spec ->> 'fence' FROM resources WHERE kind = 'Command' GROUP BY 1, 2 HAVING count(*) > 1`)).toEqual([]);
    const runs = agent.received.filter((r) => r.verdict === 'apply').map((r) => `${r.command.ref?.site ?? ''}/${r.command.ref?.fence ?? 0}`);
    expect(runs.sort()).toEqual(['after-pause-1/1', 'after-pause-2/1', 'after-pause-3/1', 'hanging/1']);
  }, 90_000);

  it('the leader SIGSTOPped inside a fenced transaction, past its lease: the standby still takes over within 15 s', async () => {
    const s = await newScenario('paused_in_tx');
    const replicas = await Promise.all([s.spawn('a'), s.spawn('b')]);
    const { leader: old, standbys, lease } = await soleLeader(s, replicas);
    const [standby] = standbys;
    if (!standby) throw new Error('no standby');
    await s.create(old, 'nodes', nodeManifest('node-tx'));
    await s.startAgent('node-tx');
    await s.waitNodeReady(old, 'node-tx');

    // Catch the leader inside a leader-only transaction: hold the Node row, so its next heartbeat
    // ingest passes fence() (which share-locks the lease row) and then waits for the row; freeze
    // it there and let the row go. A GC pause or a frozen VM can land on the same spot by chance.
    const blocker = new pg.Client({ connectionString: s.database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM resources WHERE kind = 'Node' AND name = 'node-tx' FOR UPDATE`);
      await until('the leader waiting inside a fenced transaction', async () => {
        const rows = await s.sql(
          `SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid JOIN pg_class c ON c.oid = l.relation
            WHERE c.relname = 'leases' AND l.mode = 'RowShareLock' AND l.granted AND a.wait_event_type = 'Lock' AND a.datname = current_database()`,
        );
        return rows.length > 0 ? rows : undefined;
      }, 10_000);
      old.pause();
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
    const paused = Date.now();
    // The frozen leader's transaction is still open and share-locks the lease row (now expiring).
    await until('the frozen transaction idle, holding the lease row', async () => {
      const held = await s.sql<{ state: string }>(
        `SELECT a.state FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid JOIN pg_class c ON c.oid = l.relation
          WHERE c.relname = 'leases' AND l.mode = 'RowShareLock' AND l.granted AND a.datname = current_database()`,
      );
      return held.length === 1 && held[0]?.state === 'idle in transaction' ? true : undefined;
    }, 5000);

    const taken = await until('the standby leads', async () => {
      const now = await s.lease();
      return now && standby.holds(now.holder) && (await standby.leaderGauge()) === 1 ? now : undefined;
    }, 15_000, async () => `lease ${JSON.stringify(await s.lease())}; waiting: ${JSON.stringify(await s.sql(`SELECT pid, state, wait_event_type, left(query, 80) AS query FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle'`))}`);
    expect(Date.now() - paused).toBeLessThan(15_000);
    expect(taken.epoch).toBe(lease.epoch + 1);
    // The standby's UPDATE could only pass once the frozen transaction had ended, and a frozen
    // client cannot commit: its write was rolled back. Resumed, the old leader stands down.
    old.resume();
    await until('the old leader stops its loops', async () => ((await old.leaderGauge()) === 0 ? true : undefined), 10_000, () => old.logTail());
    const after = await s.lease();
    expect(after && standby.holds(after.holder)).toBe(true);
    expect(after?.epoch).toBe(taken.epoch);
  }, 60_000);
});
