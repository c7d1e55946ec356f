import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api } from '@pressluft/e2e-harness';
import { backupSpecSchema, backupStatusSchema, type BackupReason } from '@pressluft/domain';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { BackupStoreSecrets } from '../backup-stores/backup-store.secrets.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf } from '../resources/resource.store.js';
import { BackupRetentionRunner } from './backup-retention.runner.js';
import { BackupScheduleReconciler } from './backup-schedule.reconciler.js';

const V1 = '/apis/pressluft.io/v1';
const NOW = '2027-01-10T12:00:00Z'; // a Sunday: ISO week 2027-W01 is Jan 4..10, 2026-W53 Dec 28..Jan 3
const DAY_MS = 86_400_000;
const run = promisify(execFile);

/**
 * Retention and schedules against the real control plane (PostgreSQL, the engine leading) and a
 * REAL restic repository in a temp dir: snapshots are taken with injected times, Backups for them
 * are written through the store as SUCCEEDED, and one retention pass runs with the engine's clock
 * pinned. The store is the real BackupStore `local` the control plane makes at start
 * (PRESSLUFT_DEFAULT_BACKUP_REPOSITORY, its password generated and encrypted).
 */
describe('backup retention and schedules with a real restic repository', () => {
  let fx: ControlPlaneFixture;
  let dir: string;
  let clockMs = Date.parse(NOW);
  const resticEnv = () => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, RESTIC_REPOSITORY: join(dir, 'repo'), RESTIC_PASSWORD_FILE: join(dir, 'password'), RESTIC_CACHE_DIR: join(dir, 'cache') });
  /** restic as a person would run it beside the control plane: a prune of the control plane's holds the lock for a moment, so wait for it. */
  const restic = async (...args: string[]): Promise<string> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await run('restic', args, { env: resticEnv(), maxBuffer: 16 * 1024 * 1024 })).stdout;
      } catch (error) {
        if (attempt >= 30 || !/already locked exclusively/.test(String(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  const call = <T>(path: string, options: Parameters<typeof api>[2] = {}) => api<T>(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });
  const store = () => fx.plane.app.get(ResourceStore);
  const at = (iso: string) => (clockMs = Date.parse(iso));

  /** One backup run's three restic snapshots (database, files, manifest), taken "at" `time`. */
  async function snapshots(site: string, time: string): Promise<{ database: string; files: string; manifest: string }> {
    const take = async (part: string) => {
      const stamp = time.replace('T', ' ').replace(/\.\d+/, '').replace('Z', '');
      const child = execFile('restic', ['backup', '--stdin', '--stdin-filename', `${part}.dat`, '--time', stamp, '--tag', `pressluft-site=${site}`, '--tag', `pressluft-part=${part}`, '--json'], { env: resticEnv() });
      child.stdin?.end(`${site} ${part} ${time} ${randomBytes(8).toString('hex')}\n`);
      const out = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
        child.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`restic backup exited ${String(code)}`))));
      });
      const summary = out.trim().split('\n').map((line) => JSON.parse(line) as { message_type: string; snapshot_id?: string }).find((m) => m.message_type === 'summary');
      return summary?.snapshot_id ?? '';
    };
    const [database, files, manifest] = await Promise.all([take('database'), take('files'), take('manifest')]);
    return { database, files, manifest };
  }

  interface Made {
    name: string;
    site: string;
    siteUid: string;
    time: string;
    reason?: BackupReason;
    retain?: boolean;
    keepDays?: number;
    finalizer?: boolean;
  }

  /** A SUCCEEDED Backup of real snapshots, written through the store as the Backup reconciler would. */
  async function backup(made: Made): Promise<string[]> {
    const ids = await snapshots(made.site, made.time);
    await store().transaction((tx) =>
      tx.create(
        {
          kind: 'Backup',
          name: made.name,
          labels: { 'pressluft.io/site': made.site, 'pressluft.io/site-uid': made.siteUid },
          annotations: {},
          finalizers: made.finalizer === false ? [] : ['pressluft.io/backup-snapshots'],
          spec: backupSpecSchema.parse({ site: made.site, reason: made.reason ?? 'scheduled', retain: made.retain ?? false }),
          status: backupStatusSchema.parse({
            phase: 'SUCCEEDED',
            store: 'local',
            siteUid: made.siteUid,
            snapshots: ids,
            snapshotTime: made.time,
            ...(made.keepDays ? { siteSpec: { backup: { preDeleteKeepDays: made.keepDays } } } : {}),
          }),
          generation: 1,
        },
        new Date(clockMs),
      ),
    );
    return Object.values(ids);
  }

  const backupNames = async () => (await store().list('Backup')).items.map((b) => b.metadata.name).sort();
  const repositorySnapshots = async () => (JSON.parse(await restic('snapshots', '--json')) as Array<{ id: string }>).map((s) => s.id);
  const shortIds = async () => (await repositorySnapshots()).map((id) => id.slice(0, 8)).sort();

  async function createSite(name: string, backupPolicy: Record<string, unknown>): Promise<string> {
    const response = await call<{ metadata: { uid: string } }>(`${V1}/sites`, {
      method: 'POST',
      body: {
        apiVersion: 'pressluft.io/v1',
        kind: 'Site',
        metadata: { name },
        spec: { domains: [`${name}.example.test`], wordpress: { version: '6.4', title: name, adminUser: 'admin', adminEmail: 'ops@example.test' }, backup: backupPolicy },
      },
    });
    expect(response.status).toBe(201);
    return response.body.metadata.uid;
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plt-bk-'));
    fx = await startControlPlaneFixture({
      engine: true,
      env: {
        PRESSLUFT_LEASE_TTL_MS: '3000',
        PRESSLUFT_LEASE_RENEW_MS: '300',
        PRESSLUFT_RESYNC_MS: '5000',
        // Passes run when the test says (and promptly after a Backup turns SUCCEEDED), not on the interval.
        PRESSLUFT_BACKUP_RETENTION_EVERY_MS: String(7 * DAY_MS),
        PRESSLUFT_PRUNE_EVERY_MS: '3600000',
        PRESSLUFT_RESTIC_CACHE_DIR: join(dir, 'cp-cache'),
        // The store `local` the control plane makes at start, with a password it generates.
        PRESSLUFT_DEFAULT_BACKUP_REPOSITORY: join(dir, 'repo'),
      },
    });
    // The test's own restic (snapshots at chosen times) opens the same repository with the stored password.
    const access = await fx.plane.app.get(BackupStoreSecrets).access('local');
    writeFileSync(join(dir, 'password'), access?.password ?? '', { mode: 0o600 });
    await restic('init');
    vi.spyOn(fx.plane.app.get<Clock>(CLOCK), 'now').mockImplementation(() => new Date(clockMs));
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await fx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('forgets exactly what the policy says over two weeks, and keeps retained and in-period pre-delete backups', async () => {
    at(NOW);
    const shop = await createSite('shop', { retention: { daily: 3, weekly: 2, monthly: 0 } });
    const gone = randomUUID(); // a site deleted before: no Site of its uid exists
    const runs: Made[] = [];
    // 14 scheduled daily backups at 03:00, Dec 28 .. Jan 10, a manual one at 09:00 today, a retained one from December.
    for (let day = 0; day < 14; day++) {
      const time = new Date(Date.parse('2026-12-28T03:00:00Z') + day * DAY_MS).toISOString();
      runs.push({ name: `shop-${time.slice(0, 10).replaceAll('-', '')}-0300`, site: 'shop', siteUid: shop, time });
    }
    runs.push({ name: 'shop-manual', site: 'shop', siteUid: shop, time: '2027-01-10T09:00:00Z', reason: 'manual' });
    runs.push({ name: 'shop-kept', site: 'shop', siteUid: shop, time: '2026-12-20T03:00:00Z', reason: 'manual', retain: true });
    // The deleted site: a pre-delete backup inside its 30 days, one past them, a daily, a retained one.
    runs.push({ name: 'old-pre-delete', site: 'old', siteUid: gone, time: '2027-01-01T10:00:00Z', reason: 'pre-delete', keepDays: 30 });
    runs.push({ name: 'old-pre-delete-expired', site: 'old', siteUid: gone, time: '2026-11-20T10:00:00Z', reason: 'pre-delete', keepDays: 30 });
    runs.push({ name: 'old-daily', site: 'old', siteUid: gone, time: '2026-12-31T03:00:00Z' });
    runs.push({ name: 'old-kept', site: 'old', siteUid: gone, time: '2026-11-01T03:00:00Z', reason: 'manual', retain: true });
    // restic takes about a second a run, mostly waiting: a few backups at a time (restic backup shares the repository lock).
    const made = new Map<string, string[]>();
    for (let i = 0; i < runs.length; i += 5) {
      const batch = runs.slice(i, i + 5);
      const ids = await Promise.all(batch.map((m) => backup(m)));
      batch.forEach((m, j) => made.set(m.name, ids[j] ?? []));
    }
    expect(await repositorySnapshots()).toHaveLength(made.size * 3);

    const removed = await fx.plane.app.get(BackupRetentionRunner).pass();

    // Newest (manual 09:00); daily 3: Jan 10 (09:00), 9, 8; weekly 2: W01 (Jan 10 09:00), W53 (Jan 3); retained.
    const kept = ['old-kept', 'old-pre-delete', 'shop-20270103-0300', 'shop-20270108-0300', 'shop-20270109-0300', 'shop-kept', 'shop-manual'];
    expect(await backupNames()).toEqual(kept);
    expect(removed.sort()).toEqual([...made.keys()].filter((name) => !kept.includes(name)).sort());
    expect(await shortIds()).toEqual(kept.flatMap((name) => made.get(name) ?? []).map((id) => id.slice(0, 8)).sort());

    // Each removal is an Event: on the Site for a live site, on the Backup for a deleted one.
    const events = (await store().list('Event')).items.map((e) => e.spec);
    expect(events.find((e) => e.reason === 'BackupForgotten' && e.message.startsWith('backup shop-20270104-0300 '))).toMatchObject({
      involvedObject: { kind: 'Site', name: 'shop', uid: shop },
      message: expect.stringContaining('removed by retention: outside the retention policy') as unknown,
    });
    expect(events.find((e) => e.reason === 'BackupForgotten' && e.involvedObject.name === 'old-daily')).toMatchObject({
      involvedObject: { kind: 'Backup' },
      message: expect.stringContaining('removed by retention: site deleted') as unknown,
    });

    // A second pass at the same time changes nothing.
    expect(await fx.plane.app.get(BackupRetentionRunner).pass()).toEqual([]);
    expect(await backupNames()).toEqual(kept);

    // 31 days after the pre-delete backup its period is over; but while a backup runs into the store, the store is left alone.
    at('2027-02-02T12:00:00Z');
    const running = await store().transaction((tx) =>
      tx.create({ kind: 'Backup', name: 'shop-running', labels: {}, annotations: {}, finalizers: [], spec: backupSpecSchema.parse({ site: 'shop' }), status: backupStatusSchema.parse({ phase: 'RUNNING', store: 'local' }), generation: 1 }, new Date(clockMs)),
    );
    expect(await fx.plane.app.get(BackupRetentionRunner).pass()).toEqual([]);
    expect(await backupNames()).toContain('old-pre-delete');
    await store().transaction((tx) => tx.remove(running!, new Date(clockMs)));
    expect(await fx.plane.app.get(BackupRetentionRunner).pass()).toEqual(['old-pre-delete']);
    expect(await shortIds()).not.toContain(made.get('old-pre-delete')?.[0]?.slice(0, 8));
    at(NOW);
    // 22 backup runs of three restic snapshots each: minutes on a loaded CI machine.
  }, 300_000);

  it('puts the snapshots finalizer on a SUCCEEDED backup, and a user delete forgets its snapshots before the Backup goes', async () => {
    at(NOW);
    const shop = (await store().get('Site', 'shop'))?.metadata.uid ?? '';
    const ids = await backup({ name: 'shop-by-hand', site: 'shop', siteUid: shop, time: '2026-12-15T08:00:00Z', reason: 'manual', retain: true, finalizer: false });
    await until('the finalizer is added', async () => ((await store().get('Backup', 'shop-by-hand'))?.metadata.finalizers.includes('pressluft.io/backup-snapshots') ? true : undefined));
    const before = await shortIds();
    expect(before).toEqual(expect.arrayContaining(ids.map((id) => id.slice(0, 8))));

    expect((await call(`${V1}/backups/shop-by-hand`, { method: 'DELETE' })).status).toBeLessThan(300);
    await until('the backup is gone', async () => ((await store().get('Backup', 'shop-by-hand')) ? undefined : true));
    expect(await shortIds()).toEqual(before.filter((id) => !ids.some((gone) => gone.startsWith(id))));
    const event = (await store().list('Event')).items.map((e) => e.spec).find((e) => e.reason === 'BackupDeleted');
    expect(event).toMatchObject({ involvedObject: { kind: 'Site', name: 'shop' }, message: 'backup shop-by-hand deleted: its snapshots were forgotten in store local' });
  });

  it('a schedule makes exactly one Backup per cron run, only for an ACTIVE site, and asks for the next run', async () => {
    at('2027-01-10T02:30:00Z');
    const uid = await createSite('sched', { schedule: '0 3 * * *' });
    const setPhase = (phase: string) =>
      store().transaction(async (tx) => {
        const site = await tx.get('Site', 'sched', { lock: true });
        if (site) await tx.update(site, { ...writeOf(site), status: { ...site.status, phase } }, new Date(clockMs));
      });
    await setPhase('ACTIVE');
    const schedule = fx.plane.app.get(BackupScheduleReconciler);
    const scheduled = async () => (await store().list('Backup')).items.filter((b) => b.spec.site === 'sched').map((b) => b.metadata.name).sort();

    // Before the first run: nothing, and the next pass is asked for at 03:00.
    expect(await schedule.reconcile('sched')).toEqual({ requeueAfterMs: 30 * 60_000 });
    expect(await scheduled()).toEqual([]);

    // The run at 03:00: one Backup, however many passes look (at once, too).
    at('2027-01-10T03:00:05Z');
    await Promise.all([schedule.reconcile('sched'), schedule.reconcile('sched'), schedule.reconcile('sched')]);
    expect(await schedule.reconcile('sched')).toEqual({ requeueAfterMs: DAY_MS - 5000 });
    expect(await scheduled()).toEqual(['sched-20270110-0300']);
    const made = await store().get('Backup', 'sched-20270110-0300');
    expect(made?.spec).toEqual({ site: 'sched', reason: 'scheduled', retain: false });
    expect(made?.metadata.labels).toEqual({ 'pressluft.io/site': 'sched', 'pressluft.io/site-uid': uid });
    expect((await store().get('Site', 'sched'))?.status.lastScheduledBackup).toBe('2027-01-10T03:00:00.000Z');

    // Deleted by hand, it is not made again for the same run.
    expect((await call(`${V1}/backups/sched-20270110-0300`, { method: 'DELETE' })).status).toBe(200);
    at('2027-01-10T20:00:00Z');
    await schedule.reconcile('sched');
    expect(await scheduled()).toEqual([]);

    // The next day's run; a busy site waits for its run until it is ACTIVE again (its change wakes the controller).
    at('2027-01-11T03:00:00Z');
    await schedule.reconcile('sched');
    expect(await scheduled()).toEqual(['sched-20270111-0300']);
    await setPhase('DEPLOYING');
    at('2027-01-12T03:01:00Z');
    await schedule.reconcile('sched');
    expect(await scheduled()).toEqual(['sched-20270111-0300']);
    await setPhase('ACTIVE');
    await until('the engine makes the missed run once the site is ACTIVE', async () => ((await scheduled()).length === 2 ? true : undefined));
    expect(await scheduled()).toEqual(['sched-20270111-0300', 'sched-20270112-0300']);
  });
});
