/**
 * tools/bench/engine: the reconcile engine on real PostgreSQL and NATS (a benchmark: it prints
 * numbers, asserts nothing). Measures
 *  - no-op reconciles/s (converged sites, 4 concurrent workers; planned from the informer cache),
 *  - reconciles that issue a command per second: bound sites waiting for their node, all woken
 *    when it turns Ready (each issues ProvisionSite), and the engine's reconciles/s meanwhile,
 *  - apply -> command on the bus: PUT to the test agent receiving the command, p50/p99,
 *  - outbox relay throughput beside a raw INSERT + publish loop in the same run.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { api, TestAgent } from '@pressluft/e2e-harness';
import pg from 'pg';
import { SiteReconciler } from '../../apps/control-plane/src/engine/site.reconciler.js';
import { runBenchmark, withBenchPlane } from './bench-plane.js';

const SITES = Number(process.env['BENCH_SITES'] ?? 500);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const V1 = '/apis/pressluft.io/v1';

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function site(name: string, title = 'Bench'): Record<string, unknown> {
  return {
    apiVersion: 'pressluft.io/v1',
    kind: 'Site',
    metadata: { name },
    spec: { domains: [`${name}.example.test`], nodeName: 'bench-node', wordpress: { version: '6.1', title, adminUser: 'admin', adminEmail: 'ops@example.test' } },
  };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The node: the test agent in a worker thread (an agent runs on another machine; in this
 * process it would take the control plane's event loop). Counts the commands it received.
 */
class AgentThread {
  received = 0;
  private waiters: Array<{ count: number; resolve: (at: number) => void }> = [];
  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: { received?: number; at?: number }) => {
      if (message.received === undefined || message.at === undefined) return;
      this.received = message.received;
      const at = message.at;
      this.waiters = this.waiters.filter((waiter) => (waiter.count <= this.received ? (waiter.resolve(at), false) : true));
    });
  }

  /** When (epoch ms, sub-millisecond; read in the agent's thread) the agent had received `count` commands. */
  receivedAt(count: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the agent did not receive command ${count} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  static start(natsUrl: string, node: string): Promise<AgentThread> {
    const worker = new Worker(__filename, { workerData: { natsUrl, node } });
    const thread = new AgentThread(worker);
    return new Promise((resolve, reject) => {
      worker.once('message', () => resolve(thread));
      worker.once('error', reject);
    });
  }

  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    await new Promise((resolve) => this.worker.once('exit', resolve));
  }
}

async function agentThread(job: { natsUrl: string; node: string }): Promise<void> {
  const agent = await TestAgent.start(job.natsUrl, job.node, { heartbeatMs: 500 });
  const push = agent.received.push.bind(agent.received);
  agent.received.push = (...items) => {
    const n = push(...items);
    parentPort?.postMessage({ received: n, at: performance.timeOrigin + performance.now() });
    return n;
  };
  parentPort?.postMessage({ started: true });
  parentPort?.once('message', () => void agent.stop().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  await withBenchPlane({ PRESSLUFT_RESYNC_MS: '3600000', PRESSLUFT_LEASE_RENEW_MS: '500' }, async ({ plane, token, databaseUrl, nats }) => {
    const call = (path: string, options: Parameters<typeof api>[2] = {}) => api(plane.httpUrl, path, { token, ...options });
    const db = new pg.Pool({ connectionString: databaseUrl, max: 8 });
    // PostgreSQL stops after a failed run with this pool's clients still idle: the run's own error is the one to see.
    db.on('error', () => undefined);
    const count = async (sql: string) => Number(((await db.query<{ n: string }>(sql)).rows[0] ?? { n: '0' }).n);
    const reconcilesTotal = async () => {
      const text = await (await fetch(`${plane.httpUrl}/metrics`)).text();
      return [...text.matchAll(/^pressluft_reconciles_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };

    // 1. Issuing: SITES sites are created while their node has no agent yet (NotReady): the engine
    //    finalizes and binds each, then waits. The agent starts, the node turns Ready and wakes every
    //    site on it at once: from then on the queue holds SITES keys that each issue a command.
    await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'bench-node' }, spec: { provider: 'static' } } });
    for (let i = 0; i < SITES; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, SITES - i) }, (_, j) => call(`${V1}/sites`, { method: 'POST', body: site(`s${i + j}`) })));
    }
    await until('all sites bound', async () => (await count(`SELECT count(*)::text AS n FROM resources WHERE kind = 'Site' AND status ->> 'nodeName' = 'bench-node'`)) >= SITES);
    const reconcilesBefore = await reconcilesTotal();
    const t0 = performance.now();
    const agent = await AgentThread.start(nats.url, 'bench-node');
    await until('all commands issued', async () => (await count(`SELECT count(*)::text AS n FROM resources WHERE kind = 'Command'`)) >= SITES);
    const issueSeconds = (performance.now() - t0) / 1000;
    const reconcilesDuring = (await reconcilesTotal()) - reconcilesBefore;
    // The engine's own pace: from its first command to its last (the queue is never empty between).
    const window = (await db.query<{ s: number }>(`SELECT extract(epoch FROM max(creation_timestamp) - min(creation_timestamp))::float8 AS s FROM resources WHERE kind = 'Command'`)).rows[0]?.s ?? Number.NaN;
    await until('all sites ACTIVE', async () => (await count(`SELECT count(*)::text AS n FROM resources WHERE kind = 'Site' AND status ->> 'phase' = 'ACTIVE'`)) >= SITES);

    // 2. No-op reconciles on converged sites, 4 workers. A no-op resolves without I/O, so the
    //    workers give the event loop a turn now and then: the rest of the control plane (a
    //    reconcile that does write, whose transaction would otherwise sit idle until PostgreSQL
    //    ends it) keeps running, as it does beside the engine's own queue.
    const reconciler = plane.app.get(SiteReconciler);
    let noops = 0;
    const noopEnd = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = w; performance.now() < noopEnd; i += 4) {
          const { outcome } = await reconciler.reconcile(`s${i % SITES}`);
          if (outcome === 'noop') noops += 1;
          if (i % 1024 < 4) await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );

    // 3. apply -> the command at the node's agent (through the bus), one apply at a time.
    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const name = `s${i}`;
      const received = agent.receivedAt(agent.received + 1, 10_000);
      const started = performance.timeOrigin + performance.now();
      await call(`${V1}/sites/${name}`, { method: 'PUT', body: site(name, `Bench ${i}`) });
      latencies.push((await received) - started);
      await until('site converged', async () => (await count(`SELECT count(*)::text AS n FROM resources WHERE kind = 'Site' AND name = '${name}' AND status ->> 'phase' = 'ACTIVE' AND (status ->> 'observedGeneration')::int = 2`)) === 1, 10_000);
    }

    // 4. Relay throughput: rows written straight to the outbox, drained by the running relay;
    //    beside it, a raw loop of INSERT + publish with the same payloads.
    const RELAY_ROWS = 2000;
    const payload = Buffer.alloc(300, 1);
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc);
    const relayStart = performance.now();
    await db.query(
      `INSERT INTO outbox (command, subject, payload, created_at) SELECT 'relay-bench-' || g, 'pressluft.cmd.bench-relay', $1, now() FROM generate_series(1, $2) AS g`,
      [payload, RELAY_ROWS],
    );
    await until('outbox drained', async () => (await count(`SELECT count(*)::text AS n FROM outbox WHERE sent_at IS NULL`)) === 0);
    const relaySeconds = (performance.now() - relayStart) / 1000;
    await db.query('CREATE TABLE raw_outbox (id bigserial PRIMARY KEY, command text, payload bytea)');
    const rawStart = performance.now();
    for (let i = 0; i < RELAY_ROWS; i++) {
      await db.query('INSERT INTO raw_outbox (command, payload) VALUES ($1, $2)', [`raw-${i}`, payload]);
      await js.publish('pressluft.cmd.bench-raw', payload, { msgID: `raw-${i}` });
    }
    const rawSeconds = (performance.now() - rawStart) / 1000;
    await nc.close();
    await db.end();
    await agent.stop();

    console.log(`tools/bench/engine: ${SITES} sites, PostgreSQL and nats-server from the harness, 2 cores`);
    console.log(`no-op reconciles:        ${(noops / SECONDS).toFixed(0)} /s (4 workers, ${SECONDS} s; planned from the informer cache, no database round trip)`);
    console.log(`issuing reconciles:      ${((SITES - 1) / window).toFixed(0)} /s (${SITES} bound sites woken at once by their node turning Ready; first to last command: ${window.toFixed(2)} s)`);
    console.log(`  agent start -> all ${SITES} commands issued: ${issueSeconds.toFixed(2)} s; the engine ran ${reconcilesDuring} reconciles meanwhile (${(reconcilesDuring / issueSeconds).toFixed(0)}/s, the agent's results included)`);
    console.log(`apply -> command at agent: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms (${latencies.length} applies, one at a time)`);
    console.log(`outbox relay:            ${(RELAY_ROWS / relaySeconds).toFixed(0)} msgs/s; raw INSERT+publish loop ${(RELAY_ROWS / rawSeconds).toFixed(0)} msgs/s; ratio ${(rawSeconds / relaySeconds).toFixed(2)}`);
  });
}

if (isMainThread) runBenchmark(main);
else void agentThread(workerData as { natsUrl: string; node: string });
