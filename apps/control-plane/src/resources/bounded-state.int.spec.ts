import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { api, nodeManifest, until, type ApiRequest } from '@pressluft/e2e-harness';
import { COMMAND_STREAM, commandSubject, COMMANDS_PER_NODE, ensureStreams, EVENT_STREAM, EVENTS_PER_NODE_AND_KIND, STREAM_LIMITS } from '@pressluft/platform';
import { NatsService, pgQuery } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { LeaderElection } from '../engine/leader-election.js';
import { Pruner } from '../engine/pruner.js';
import { recordEvent } from '../events/event.recorder.js';
import { ResourceStore } from './resource.store.js';

/**
 * Bounded state against real PostgreSQL and NATS: the leader's pruning (change log compaction,
 * Event TTL, audit retention, sent outbox rows, receipts), 410 Expired for a watch resuming from a
 * compacted version, the per-subject watch limit, the audit log under a flood of unauthenticated
 * requests, and the JetStream limits.
 */

const NODES = '/apis/pressluft.io/v1/nodes';
const DAY_MS = 24 * 3_600_000;

interface WatchLine {
  type: string;
  object: { kind?: string; code?: number; reason?: string; metadata?: { name?: string; resourceVersion?: string } };
}

describe('bounded state', () => {
  let fx: ControlPlaneFixture;
  let call: (path: string, options?: ApiRequest) => ReturnType<typeof api<Record<string, unknown> & { metadata: { resourceVersion: string } }>>;

  /** Reads a watch until `enough` holds, the stream ends or `timeoutMs` passes. */
  async function watch(query: string, enough: (lines: WatchLine[]) => boolean, timeoutMs = 10_000, token = fx.adminToken) {
    const controller = new AbortController();
    const response = await fetch(`${fx.plane.httpUrl}${NODES}?watch=true&${query}`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    const lines: WatchLine[] = [];
    let ended = false;
    const reader = response.body?.getReader();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let buffer = '';
    try {
      while (reader && !enough(lines)) {
        const { value, done } = await reader.read();
        if (done) {
          ended = true;
          break;
        }
        buffer += Buffer.from(value).toString('utf8');
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          lines.push(JSON.parse(buffer.slice(0, i)) as WatchLine);
          buffer = buffer.slice(i + 1);
        }
      }
    } catch {
      // aborted at the timeout
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    return { status: response.status, lines, ended };
  }

  const label = (name: string, value: string) =>
    call(`${NODES}/${name}`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { step: value } } } });

  beforeAll(async () => {
    fx = await startControlPlaneFixture({
      engine: true,
      // The pruning runs when the test says so; changes older than a second are compactable.
      env: { PRESSLUFT_PRUNE_EVERY_MS: '3600000', PRESSLUFT_CHANGE_LOG_RETENTION_MS: '1000', PRESSLUFT_MAX_WATCHES_PER_SUBJECT: '2' },
    });
    call = (path, options = {}) => api(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
    await until('the replica leads', () => (fx.plane.app.get(LeaderElection).leading ? true : undefined), 15_000);
  });

  afterAll(async () => {
    await fx?.stop();
  });

  it('compacts the change log: a watch resuming below the compaction point gets 410 Expired and ends; one from a listed version still streams', async () => {
    const created = await call(NODES, { method: 'POST', body: nodeManifest('compacted') });
    expect(created.status).toBe(201);
    const first = created.body.metadata.resourceVersion;
    for (const step of ['1', '2', '3']) expect((await label('compacted', step)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));

    const pruned = await fx.plane.app.get(Pruner).prune();
    expect(pruned.changeLogMs).toBeGreaterThanOrEqual(3);
    const [point] = (await pgQuery(fx.database.url, 'SELECT compacted_through::text AS rv FROM change_log_compaction')).rows as Array<{ rv: string }>;
    expect(BigInt(point?.rv ?? '0')).toBeGreaterThan(BigInt(first));
    // The latest change of the live object stays (a list undoing a late commit reads it).
    const kept = (await pgQuery(fx.database.url, `SELECT object -> 'metadata' -> 'labels' ->> 'step' AS step FROM resource_changes WHERE kind = 'Node' AND name = 'compacted'`)).rows as Array<{ step: string }>;
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(new Set(kept.map((row) => row.step))).toEqual(new Set(['3']));

    const expired = await watch(`resourceVersion=${first}`, () => false);
    expect(expired.status).toBe(200);
    expect(expired.ended).toBe(true);
    expect(expired.lines).toEqual([
      { type: 'ERROR', object: expect.objectContaining({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: expect.stringContaining(`too old resource version: ${first}`) }) },
    ]);

    const listed = await call(NODES);
    const current = watch(`resourceVersion=${listed.body.metadata.resourceVersion}`, (lines) => lines.some((l) => l.type === 'MODIFIED'));
    await new Promise((r) => setTimeout(r, 200));
    expect((await label('compacted', '4')).status).toBe(200);
    const live = await current;
    expect(live.lines.map((l) => [l.type, l.object.metadata?.name])).toEqual([['MODIFIED', 'compacted']]);
  });

  it('prunes expired Events (watchers see DELETED), audit rows past 90 days, sent outbox rows and old receipts; keeps what is within retention', async () => {
    const node = (await fx.plane.app.get(ResourceStore).get('Node', 'compacted'))!;
    const store = fx.plane.app.get(ResourceStore);
    const old = await store.transaction((tx) => recordEvent(tx, node, 'Normal', 'Tested', 'an old event', new Date(Date.now() - 2 * 3_600_000)));
    const fresh = await store.transaction((tx) => recordEvent(tx, node, 'Normal', 'Tested', 'a fresh event', new Date()));
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    await pgQuery(
      fx.database.url,
      `INSERT INTO audit_log (at, subject, verb, path, code, reason, request_id) VALUES ($1, 'old', 'POST', '/x', 201, NULL, 'old-audit'), ($2, 'recent', 'POST', '/x', 201, NULL, 'recent-audit')`,
      [ago(91 * DAY_MS), ago(89 * DAY_MS)],
    );
    await pgQuery(
      fx.database.url,
      `INSERT INTO outbox (command, subject, payload, created_at, sent_at) VALUES
         ('sent-long-ago', 's', '\\x00', $1, $1), ('sent-just-now', 's', '\\x00', $2, $2), ('never-sent', 's', '\\x00', $1, NULL)`,
      [ago(2 * DAY_MS), ago(0)],
    );
    await pgQuery(fx.database.url, `INSERT INTO command_event_receipts (command, sequence, received_at) VALUES ('old-receipt', 1, $1), ('new-receipt', 1, $2)`, [ago(9 * DAY_MS), ago(0)]);
    const before = (await call(NODES)).body.metadata.resourceVersion;

    const pruned = await fx.plane.app.get(Pruner).prune();
    expect(pruned).toMatchObject({ eventsMs: 1, auditMs: 1, outboxSentMs: 1, receiptsMs: 1 });

    expect((await call(`/apis/pressluft.io/v1/events/${old.metadata.name}`)).status).toBe(404);
    expect((await call(`/apis/pressluft.io/v1/events/${fresh.metadata.name}`)).status).toBe(200);
    const deleted = (await pgQuery(fx.database.url, `SELECT type FROM resource_changes WHERE kind = 'Event' AND name = $1 AND resource_version > $2`, [old.metadata.name, before])).rows;
    expect(deleted).toEqual([{ type: 'DELETED' }]);
    const left = async (sql: string) => ((await pgQuery(fx.database.url, sql)).rows as Array<{ k: string }>).map((r) => r.k).sort();
    expect(await left(`SELECT request_id AS k FROM audit_log WHERE request_id LIKE '%-audit'`)).toEqual(['recent-audit']);
    expect(await left(`SELECT command AS k FROM outbox`)).toEqual(['never-sent', 'sent-just-now']);
    expect(await left(`SELECT command AS k FROM command_event_receipts`)).toEqual(['new-receipt']);

    // A second pass finds nothing more.
    expect(await fx.plane.app.get(Pruner).prune()).toMatchObject({ eventsMs: 0, auditMs: 0, outboxSentMs: 0, receiptsMs: 0 });
  });

  it("prunes finished Commands (and their logs) past 30 days as objects; never a site's newest, a recent or an unfinished one", async () => {
    const store = fx.plane.app.get(ResourceStore);
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    const command = (name: string, site: string, siteUid: string, fence: number, state: 'SUCCEEDED' | 'FAILED' | 'RUNNING', finishedAt?: string) =>
      store.transaction((tx) =>
        tx.create(
          {
            kind: 'Command',
            name,
            labels: { 'pressluft.io/site': site, 'pressluft.io/site-uid': siteUid },
            annotations: {},
            finalizers: [],
            spec: { site, node: 'compacted', fence, operation: 'ProvisionSite', generation: 1 },
            status: { state, log: ['converge (50%)'], lastSequence: 1, ...(finishedAt ? { finishedAt } : {}) },
            generation: 1,
          },
          new Date(),
        ),
      );
    const [a, b] = [randomUUID(), randomUUID()];
    await command('prune-a-1', 'prune-a', a, 1, 'SUCCEEDED', ago(40 * DAY_MS));
    await command('prune-a-2', 'prune-a', a, 2, 'FAILED', ago(35 * DAY_MS));
    await command('prune-b-1', 'prune-b', b, 1, 'SUCCEEDED', ago(DAY_MS));
    await command('prune-b-2', 'prune-b', b, 2, 'RUNNING');
    // An earlier incarnation's newest command stays too (another site uid under the same name).
    await command('prune-a-old-9', 'prune-a', randomUUID(), 9, 'SUCCEEDED', ago(60 * DAY_MS));
    const before = (await call(NODES)).body.metadata.resourceVersion;

    expect((await fx.plane.app.get(Pruner).prune()).commandsMs).toBe(1);

    const left = (await pgQuery(fx.database.url, `SELECT name FROM resources WHERE kind = 'Command' AND name LIKE 'prune-%' ORDER BY name`)).rows as Array<{ name: string }>;
    expect(left.map((row) => row.name)).toEqual(['prune-a-2', 'prune-a-old-9', 'prune-b-1', 'prune-b-2']);
    const deleted = (await pgQuery(fx.database.url, `SELECT type FROM resource_changes WHERE kind = 'Command' AND name = 'prune-a-1' AND resource_version > $1`, [before])).rows;
    expect(deleted).toEqual([{ type: 'DELETED' }]);
    expect((await fx.plane.app.get(Pruner).prune()).commandsMs).toBe(0);
  });

  it('prunes failed Backups and finished Restores past 30 days as objects; never a SUCCEEDED Backup, a recent or an unfinished run', async () => {
    const store = fx.plane.app.get(ResourceStore);
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    const make = (kind: 'Backup' | 'Restore', name: string, phase: 'SUCCEEDED' | 'FAILED' | 'RUNNING', completedAt?: string) =>
      store.transaction((tx) =>
        tx.create(
          {
            kind,
            name,
            labels: {},
            annotations: {},
            finalizers: [],
            spec: kind === 'Backup' ? { site: 'pruned-site', reason: 'manual', retain: false } : { backup: 'run-b-ok', skipPreRestoreBackup: false },
            status: { phase, observedGeneration: 1, conditions: [], ...(completedAt ? { completedAt } : {}) },
            generation: 1,
          },
          new Date(),
        ),
      );
    await make('Backup', 'run-b-failed-old', 'FAILED', ago(40 * DAY_MS));
    await make('Backup', 'run-b-failed-new', 'FAILED', ago(DAY_MS));
    await make('Backup', 'run-b-ok', 'SUCCEEDED', ago(90 * DAY_MS));
    await make('Backup', 'run-b-running', 'RUNNING');
    await make('Restore', 'run-r-done-old', 'SUCCEEDED', ago(31 * DAY_MS));
    await make('Restore', 'run-r-failed-old', 'FAILED', ago(45 * DAY_MS));
    await make('Restore', 'run-r-done-new', 'SUCCEEDED', ago(DAY_MS));

    expect((await fx.plane.app.get(Pruner).prune()).runsMs).toBe(3);

    const left = (await pgQuery(fx.database.url, `SELECT name FROM resources WHERE kind IN ('Backup', 'Restore') AND name LIKE 'run-%' ORDER BY name`)).rows as Array<{ name: string }>;
    expect(left.map((row) => row.name)).toEqual(['run-b-failed-new', 'run-b-ok', 'run-b-running', 'run-r-done-new']);
    expect((await fx.plane.app.get(Pruner).prune()).runsMs).toBe(0);
  });

  it('limits open watches per subject: a third watch of the same token gets 429 TooManyRequests; closing one frees its slot', async () => {
    const quiet = (lines: WatchLine[]) => lines.length > 1_000_000;
    const listed = (await call(NODES)).body.metadata.resourceVersion;
    const held = [watch(`resourceVersion=${listed}`, quiet, 3000), watch(`resourceVersion=${listed}`, quiet, 3000)];
    await new Promise((r) => setTimeout(r, 500));
    const refused = await call(`${NODES}?watch=true&resourceVersion=${listed}`);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
    // Another subject has slots of its own.
    const other = await watch(`resourceVersion=${listed}&timeoutSeconds=1`, quiet, 3000, await fx.token('viewer', 'another-subject'));
    expect(other.status).toBe(200);
    await Promise.all(held);
    // The server gives a slot back when it sees the connection close.
    await until('a slot is free again', async () => ((await call(`${NODES}?watch=true&resourceVersion=${listed}&timeoutSeconds=1`)).status === 200 ? true : undefined), 5000);
  });

  it('drops a watcher that stops reading (attack: hold a watch unread while changes pile up) instead of buffering for it without bound', async () => {
    const listed = (await call(NODES)).body.metadata.resourceVersion;
    let unread: ClientRequest | undefined;
    await new Promise<void>((opened) => {
      unread = httpRequest(`${fx.plane.httpUrl}${NODES}?watch=true&resourceVersion=${listed}`, { headers: { authorization: `Bearer ${fx.adminToken}` } }, (res) => {
        res.pause(); // never reads a byte
        opened();
      });
      unread.on('error', () => undefined);
      unread.end();
    });
    try {
      // About 16 MB of changes: more than the socket buffers and the 4 MiB the server keeps for a watcher.
      const big = 'x'.repeat(200_000);
      for (let i = 0; i < 80; i++) {
        const patched = await call(`${NODES}/compacted`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { annotations: { 'test.pressluft.io/filler': `${i}${big}` } } } });
        expect(patched.status).toBe(200);
      }
      // Before: the server buffered all of it for the stalled client, for as long as it stayed connected. Now the
      // watcher is dropped: its slot comes back, so two more watches of the same token fit the limit of 2.
      await until(
        'the stalled watcher dropped',
        async () => {
          const now = (await call(NODES)).body.metadata.resourceVersion;
          const both = await Promise.all([0, 1].map(() => call(`${NODES}?watch=true&resourceVersion=${now}&timeoutSeconds=1`)));
          return both.every((r) => r.status === 200) ? true : undefined;
        },
        15_000,
      );
    } finally {
      unread?.destroy();
      await call(`${NODES}/compacted`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { annotations: { 'test.pressluft.io/filler': null } } } });
    }
  }, 60_000);

  it('a flood of unauthenticated writes (attack: grow the audit log without bound) leaves at most 60 rows a minute plus one counted row', async () => {
    const flood = 300;
    const { rows: [start] } = await pgQuery(fx.database.url, `SELECT coalesce(max(id), 0)::text AS id FROM audit_log`);
    const since = (start as { id: string }).id;
    for (let i = 0; i < flood; i += 20) {
      await Promise.all(Array.from({ length: 20 }, () => api(fx.plane.httpUrl, NODES, { method: 'POST', token: 'plt_not-a-token', body: nodeManifest('flood') })));
    }
    // Before: one row per request (300). Now: the first 60 of each minute, the rest counted once the minute is over.
    const totals = await until(
      'every unauthenticated request accounted for',
      async () => {
        const [row] = (await pgQuery(fx.database.url, `SELECT count(*)::int AS rows, coalesce(sum(count), 0)::int AS requests FROM audit_log WHERE subject = 'anonymous' AND id > $1`, [since])).rows as Array<{ rows: number; requests: number }>;
        return row && row.requests === flood ? row : undefined;
      },
      75_000,
    );
    expect(totals.rows).toBeLessThanOrEqual(2 * 61);
    expect((await call(`${NODES}/flood`)).status).toBe(404);
  }, 90_000);
});

describe('JetStream limits', () => {
  let root: string;
  let nats: NatsService;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pressluft-bus-limits-'));
    nats = await NatsService.create(root);
  });

  afterAll(async () => {
    await nats?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('applies per-subject, size and byte limits at creation and to existing streams; one node cannot hold more than its share (attack: flood a subject)', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      // A stream as an older control plane made it: no limits.
      await jsm.streams.add({ name: COMMAND_STREAM, subjects: ['pressluft.cmd.>'] });
      await ensureStreams(nc);
      for (const [name, perSubject] of [
        [COMMAND_STREAM, COMMANDS_PER_NODE],
        [EVENT_STREAM, EVENTS_PER_NODE_AND_KIND],
      ] as const) {
        const { config } = await jsm.streams.info(name);
        expect(config).toMatchObject({ ...STREAM_LIMITS, max_msgs_per_subject: perSubject });
      }
      // Before: every message kept (until the store is full). Now: the subject keeps its newest COMMANDS_PER_NODE.
      const js = jetstream(nc);
      const subject = commandSubject('flooder');
      for (let i = 0; i < COMMANDS_PER_NODE + 50; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => js.publish(subject, `${i + j}`)));
      const info = await jsm.streams.info(COMMAND_STREAM, { subjects_filter: subject });
      expect(info.state.subjects?.[subject]).toBe(COMMANDS_PER_NODE);
      expect(new TextDecoder().decode((await jsm.streams.getMessage(COMMAND_STREAM, { last_by_subj: subject }))?.data)).toBe(String(COMMANDS_PER_NODE + 49));
    } finally {
      await nc.close();
    }
  });
});
