import { describe, expect, it } from 'vitest';
import { backupSpecSchema, backupStatusSchema } from './backup.js';
import { BACKUP_SNAPSHOTS_FINALIZER, backupsInUse, groupBackups, planBackupGroup, snapshotIds, snapshotsFinalizerStep, storesInUse } from './backup-retention-groups.js';
import { siteSpecSchema } from './site.js';

const UID_A = '6f1c2a8e-0000-4000-8000-00000000000a';
const UID_B = '6f1c2a8e-0000-4000-8000-00000000000b';
const NOW = new Date('2027-01-10T12:00:00Z');

interface Given {
  site?: string;
  uid?: string;
  store?: string;
  time: string;
  reason?: 'scheduled' | 'pre-delete' | 'manual';
  retain?: boolean;
  phase?: 'SUCCEEDED' | 'FAILED' | 'RUNNING';
  deleting?: boolean;
  keepDays?: number;
}

function backup(name: string, given: Given) {
  return {
    metadata: {
      name,
      uid: `6f1c2a8e-0000-4000-8000-${name.padStart(12, '0').slice(-12).replace(/[^0-9a-f]/g, '0')}`,
      generation: 1,
      resourceVersion: '1',
      labels: { 'pressluft.io/site': given.site ?? 'shop', 'pressluft.io/site-uid': given.uid ?? UID_A },
      annotations: {},
      finalizers: [] as string[],
      creationTimestamp: given.time,
      ...(given.deleting ? { deletionTimestamp: NOW.toISOString() } : {}),
    },
    spec: backupSpecSchema.parse({ site: given.site ?? 'shop', reason: given.reason ?? 'scheduled', retain: given.retain ?? false }),
    status: backupStatusSchema.parse({
      phase: given.phase ?? 'SUCCEEDED',
      store: given.store ?? 'default',
      siteUid: given.uid ?? UID_A,
      snapshots: { database: 'aaaaaaaa', files: 'bbbbbbbb', manifest: 'cccccccc' },
      snapshotTime: given.time,
      ...(given.keepDays !== undefined ? { siteSpec: { backup: { preDeleteKeepDays: given.keepDays } } } : {}),
    }),
  };
}

function site(uid: string, backupPolicy?: Record<string, unknown>) {
  return {
    metadata: { name: 'shop', uid, generation: 1, resourceVersion: '1', labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: siteSpecSchema.parse({
      domains: ['shop.example.test'],
      wordpress: { version: '6.4', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' },
      ...(backupPolicy ? { backup: backupPolicy } : {}),
    }),
  };
}

describe('groupBackups', () => {
  it('groups SUCCEEDED backups by store, site and incarnation, and leaves out the rest', () => {
    const groups = groupBackups([
      backup('a1', { time: '2027-01-01T03:00:00Z' }),
      backup('a2', { time: '2027-01-02T03:00:00Z' }),
      backup('b1', { time: '2027-01-01T03:00:00Z', uid: UID_B }),
      backup('s1', { time: '2027-01-01T03:00:00Z', store: 'offsite' }),
      backup('f1', { time: '2027-01-03T03:00:00Z', phase: 'FAILED' }),
      backup('r1', { time: '2027-01-03T03:00:00Z', phase: 'RUNNING' }),
      backup('d1', { time: '2027-01-03T03:00:00Z', deleting: true }),
    ]);
    expect(groups.map((g) => [g.store, g.site, g.siteUid, g.backups.map((b) => b.metadata.name)])).toEqual([
      ['default', 'shop', UID_A, ['a1', 'a2']],
      ['default', 'shop', UID_B, ['b1']],
      ['offsite', 'shop', UID_A, ['s1']],
    ]);
  });

  it('knows the stores a backup is running into', () => {
    const stores = storesInUse([
      backup('r1', { time: '2027-01-01T03:00:00Z', phase: 'RUNNING', store: 'offsite' }),
      backup('a1', { time: '2027-01-01T03:00:00Z', store: 'default' }),
      backup('f1', { time: '2027-01-01T03:00:00Z', phase: 'FAILED', store: 'third' }),
    ]);
    expect([...stores]).toEqual(['offsite']);
  });

  it('knows the stores a running restore reads from, and the backups unfinished restores need', () => {
    const backups = [backup('a1', { time: '2027-01-01T03:00:00Z', store: 'default' }), backup('s1', { time: '2027-01-01T03:00:00Z', store: 'offsite' })];
    const restores = [
      { spec: { backup: 'a1', skipPreRestoreBackup: false }, status: { phase: 'RUNNING' as const, observedGeneration: 1, conditions: [], preRestoreBackup: 'a1-pre' } },
      { spec: { backup: 's1', skipPreRestoreBackup: false }, status: { phase: 'PENDING' as const, observedGeneration: 1, conditions: [] } },
      { spec: { backup: 'old', skipPreRestoreBackup: false }, status: { phase: 'SUCCEEDED' as const, observedGeneration: 1, conditions: [], preRestoreBackup: 'old-pre' } },
    ];
    expect([...storesInUse(backups, restores)]).toEqual(['default']);
    expect([...backupsInUse(restores)].sort()).toEqual(['a1', 'a1-pre', 's1']);
  });

  it('lists a backup snapshot ids', () => {
    expect(snapshotIds(backup('a1', { time: '2027-01-01T03:00:00Z' }))).toEqual(['aaaaaaaa', 'bbbbbbbb', 'cccccccc']);
  });
});

describe('planBackupGroup', () => {
  const days = (n: number, reason: Given['reason'] = 'scheduled', extra: Partial<Given> = {}) =>
    Array.from({ length: n }, (_, i) => backup(`d${i + 1}`, { time: new Date(Date.parse('2027-01-10T03:00:00Z') - i * 86_400_000).toISOString(), reason, ...extra }));
  const forgotten = (...args: Parameters<typeof planBackupGroup>) => planBackupGroup(...args).map((f) => f.backup.metadata.name);

  it.each<[string, ReturnType<typeof site> | undefined, Record<string, unknown> | undefined, string[]]>([
    ['the live site policy: 3 daily keeps the newest three days', site(UID_A), { retention: { daily: 3, weekly: 0, monthly: 0 } }, ['d4', 'd5', 'd6']],
    ['defaults (7 daily, 4 weekly) when the site sets none', site(UID_A), undefined, []],
    ['a site of the same name but another uid: the group site is gone', site(UID_B), { retention: { daily: 3, weekly: 0, monthly: 0 } }, ['d1', 'd2', 'd3', 'd4', 'd5', 'd6']],
    ['no site at all: everything unretained goes', undefined, undefined, ['d1', 'd2', 'd3', 'd4', 'd5', 'd6']],
  ])('%s', (_name, theSite, policy, expected) => {
    const live = theSite && policy ? { ...theSite, spec: siteSpecSchema.parse({ ...theSite.spec, backup: policy }) } : theSite;
    const [group] = groupBackups(days(6));
    expect(forgotten(group!, live, NOW)).toEqual(expected);
  });

  it('keeps a deleted site pre-delete backup for the period its spec recorded, not the default', () => {
    const preDelete = (keepDays: number) => backup('pd', { time: '2026-12-20T03:00:00Z', reason: 'pre-delete', keepDays });
    const [short] = groupBackups([preDelete(10)]);
    const [long] = groupBackups([preDelete(40)]);
    expect(forgotten(short!, undefined, NOW)).toEqual(['pd']);
    expect(forgotten(long!, undefined, NOW)).toEqual([]);
  });

  it('never forgets a retained backup, site or no site', () => {
    const [group] = groupBackups([backup('keep', { time: '2025-01-01T03:00:00Z', retain: true }), backup('old', { time: '2025-01-02T03:00:00Z' })]);
    expect(forgotten(group!, undefined, NOW)).toEqual(['old']);
  });

  it('says why', () => {
    const [group] = groupBackups(days(2));
    expect(planBackupGroup(group!, undefined, NOW)[0]?.reasons).toEqual(['site deleted']);
  });
});

describe('snapshotsFinalizerStep', () => {
  const withFinalizer = (b: ReturnType<typeof backup>) => ({ ...b, metadata: { ...b.metadata, finalizers: [BACKUP_SNAPSHOTS_FINALIZER] } });
  const time = '2027-01-01T03:00:00Z';
  it.each<[string, ReturnType<typeof backup>, string]>([
    ['a SUCCEEDED backup gets the finalizer', backup('a', { time }), 'add'],
    ['once', withFinalizer(backup('a', { time })), 'none'],
    ['a running one does not', backup('a', { time, phase: 'RUNNING' }), 'none'],
    ['nor a failed one', backup('a', { time, phase: 'FAILED' }), 'none'],
    ['a deleted one with the finalizer: forget its snapshots', withFinalizer(backup('a', { time, deleting: true })), 'forget'],
    ['a deleted one without it: nothing to do', backup('a', { time, deleting: true }), 'none'],
  ])('%s', (_name, given, expected) => {
    expect(snapshotsFinalizerStep(given)).toBe(expected);
  });

  it('a SUCCEEDED backup without snapshots gets none', () => {
    const b = backup('a', { time });
    expect(snapshotsFinalizerStep({ ...b, status: { ...b.status, snapshots: {} } })).toBe('none');
  });
});
