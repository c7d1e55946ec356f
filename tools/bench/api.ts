/**
 * tools/bench/api: PUT applies per second and their latency with 8 concurrent clients, beside a
 * raw single-row INSERT loop on the same PostgreSQL in the same run. A benchmark, not a test:
 * it prints numbers and asserts nothing. The clients run in a worker thread, so the control
 * plane's event loop (this process's main thread) serves requests only, as it would in
 * production; its CPU time per apply is read from that thread alone.
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import pg from 'pg';
import { runBenchmark, withBenchPlane } from './bench-plane.js';
import { processTreeCpuMs } from './cpu.js';

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 8);
const DURATION_MS = Number(process.env['BENCH_SECONDS'] ?? 10) * 1000;
const WARMUP_MS = 2000;

interface Result {
  readonly ops: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  /** CPU time of the control plane's thread over the measured window (NaN: not measured). */
  readonly cpuMs: number;
  /** CPU time of the clients' thread over the measured window. */
  readonly clientCpuMs: number;
}

const threadCpuMs = (): number => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(name: string, result: Result): string {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  return `${name.padEnd(22)} ${(result.ops / result.seconds).toFixed(0).padStart(7)} ops/s   p50 ${percentile(sorted, 50).toFixed(2).padStart(6)} ms   p99 ${percentile(sorted, 99).toFixed(2).padStart(6)} ms   (${result.ops} ops${Number.isNaN(result.cpuMs) ? '' : `, ${(result.cpuMs / Math.max(1, result.ops)).toFixed(3)} ms control plane CPU/op`})`;
}

/** Runs `op` in `CLIENTS` concurrent loops; only operations started after the warm-up count. */
async function load(op: (client: number, i: number) => Promise<void>): Promise<Omit<Result, 'cpuMs'>> {
  const latencies: number[] = [];
  let ops = 0;
  const measureFrom = performance.now() + WARMUP_MS;
  const end = measureFrom + DURATION_MS;
  let cpuFrom = Number.NaN;
  const cpuTimer = setTimeout(() => (cpuFrom = threadCpuMs()), WARMUP_MS);
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        await op(client, i);
        if (t0 >= measureFrom) {
          latencies.push(performance.now() - t0);
          ops += 1;
        }
      }
    }),
  );
  clearTimeout(cpuTimer);
  return { ops, seconds: DURATION_MS / 1000, latenciesMs: latencies, clientCpuMs: threadCpuMs() - cpuFrom };
}

function put(agent: Agent, base: string, token: string, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'PUT', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function site(name: string, title: string): string {
  return JSON.stringify({
    apiVersion: 'pressluft.io/v1',
    kind: 'Site',
    metadata: { name, labels: { bench: 'api' } },
    spec: {
      domains: [`${name}.example.test`],
      nodeName: 'local',
      wordpress: { version: '6.1', title, adminUser: 'admin', adminEmail: 'ops@example.test' },
    },
  });
}

interface ClientJob {
  readonly base: string;
  readonly token: string;
  readonly databaseUrl: string;
}

interface ClientResults {
  readonly apply: Omit<Result, 'cpuMs'>;
  readonly raw: Omit<Result, 'cpuMs'>;
  readonly failures: number;
}

/** The worker thread: the HTTP clients, then the raw INSERT loop; a message marks each phase's start. */
async function clients(job: ClientJob): Promise<ClientResults> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let failures = 0;
  parentPort?.postMessage({ phase: 'apply' });
  // Each client applies its own site; every PUT changes the spec, so each one is a real write.
  const apply = await load(async (client, i) => {
    const status = await put(agent, job.base, job.token, `/apis/pressluft.io/v1/sites/bench-${client}`, site(`bench-${client}`, `Bench ${i}`));
    if (status !== 200 && status !== 201) failures += 1;
  });
  agent.destroy();
  parentPort?.postMessage({ phase: 'raw' });
  const pool = new pg.Pool({ connectionString: job.databaseUrl, max: CLIENTS });
  await pool.query('CREATE TABLE bench_raw (id bigserial PRIMARY KEY, name text NOT NULL, body jsonb NOT NULL)');
  const raw = await load(async (client, i) => {
    await pool.query('INSERT INTO bench_raw (name, body) VALUES ($1, $2)', [`bench-${client}`, site(`bench-${client}`, `Bench ${i}`)]);
  });
  await pool.end();
  return { apply, raw, failures };
}

/** The position in PostgreSQL's write-ahead log: the WAL written between two readings is a measure of work that machine load does not change. */
async function walPosition(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
  return rows[0]?.lsn ?? '0/0';
}

function walBytes(from: string, to: string): number {
  const bytes = (lsn: string) => lsn.split('/').reduce((high, low) => high * 2 ** 32 + parseInt(low, 16), 0);
  return bytes(to) - bytes(from);
}

/** Runs the clients in a worker; the plane's thread CPU and the WAL written are read over the apply phase's measured window. */
function runClients(
  job: ClientJob,
  postgresPid: number,
  wal: pg.Client,
): Promise<ClientResults & { applyCpuMs: number; applyPostgresCpuMs: number; applyWalBytes: Promise<number>; loopDelayMs: { p99: number; max: number } }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: job });
    let from: { plane: number; postgres: number; wal: Promise<string> } | undefined;
    let to: { plane: number; postgres: number; wal: Promise<string> } | undefined;
    const sample = () => ({ plane: threadCpuMs(), postgres: processTreeCpuMs(postgresPid), wal: walPosition(wal) });
    // How long the control plane's event loop was blocked at a time (GC, long tasks) while applying.
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    let timer: NodeJS.Timeout | undefined;
    worker.on('message', (message: { phase?: string; results?: ClientResults }) => {
      if (message.phase === 'apply') {
        timer = setTimeout(() => {
          from = sample();
          loopDelay.enable();
        }, WARMUP_MS);
      }
      if (message.phase === 'raw') {
        to = sample();
        loopDelay.disable();
      }
      if (message.results) {
        clearTimeout(timer);
        resolve({
          ...message.results,
          applyCpuMs: from && to ? to.plane - from.plane : Number.NaN,
          applyPostgresCpuMs: from && to ? to.postgres - from.postgres : Number.NaN,
          applyWalBytes: from && to ? Promise.all([from.wal, to.wal]).then(([a, b]) => walBytes(a, b)) : Promise.resolve(Number.NaN),
          loopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
        });
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the client worker exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  // The API alone: the engine's reactions to each apply are measured by tools/bench/engine.
  await withBenchPlane({ PRESSLUFT_ENGINE: process.env['BENCH_ENGINE'] ?? 'false' }, async ({ plane, token, databaseUrl, postgres }) => {
    if (postgres.pid === undefined) throw new Error('PostgreSQL is not running');
    const wal = new pg.Client({ connectionString: databaseUrl });
    await wal.connect();
    const results = await runClients({ base: plane.httpUrl, token, databaseUrl }, postgres.pid, wal);
    const applyWalBytes = await results.applyWalBytes;
    await wal.end();
    const version = (await postgres.query('postgres', 'SHOW server_version')).rows[0] as { server_version?: string } | undefined;
    console.log(`tools/bench/api: ${CLIENTS} concurrent clients (in a worker thread), ${DURATION_MS / 1000} s measured after ${WARMUP_MS / 1000} s warm-up, PostgreSQL ${version?.server_version ?? '?'} over ${databaseUrl.includes('@127.0.0.1:') ? 'TCP (loopback)' : 'its Unix socket'}`);
    console.log(summary('PUT apply (API)', { ...results.apply, cpuMs: results.applyCpuMs }));
    console.log(summary('raw INSERT (pg)', { ...results.raw, cpuMs: Number.NaN }));
    console.log(`ratio API/raw throughput: ${(results.apply.ops / results.raw.ops).toFixed(3)}   failed applies: ${results.failures}`);
    const perOp = (ms: number) => (ms / Math.max(1, results.apply.ops)).toFixed(3);
    console.log(
      `CPU per apply: control plane thread ${perOp(results.applyCpuMs)} ms, PostgreSQL ${perOp(results.applyPostgresCpuMs)} ms, HTTP clients ${perOp(results.apply.clientCpuMs)} ms (${cpus().length} cores: ${cpus().length * 1000} ms of CPU per second)`,
    );
    console.log(`PostgreSQL WAL per apply: ${(applyWalBytes / Math.max(1, results.apply.ops)).toFixed(0)} bytes (the same for the same SQL, whatever the machine's load)`);
    console.log(`control plane event loop delay while applying: p99 ${results.loopDelayMs.p99.toFixed(2)} ms, max ${results.loopDelayMs.max.toFixed(2)} ms`);
  });
}

if (isMainThread) {
  runBenchmark(main);
} else {
  clients(workerData as ClientJob).then(
    (results) => parentPort?.postMessage({ results }),
    (error: unknown) => {
      throw error;
    },
  );
}
