import { describe, expect, it } from 'vitest';
import { nextScheduledBackup, scheduledBackupDue, scheduledBackupName } from './backup-schedule.js';
import { NAME_PATTERN } from './names.js';
import { siteSpecSchema, siteStatusSchema } from './site.js';
import type { SitePhase } from './site-lifecycle.js';

interface Given {
  schedule?: string;
  phase?: SitePhase;
  created?: string;
  last?: string;
  deleting?: boolean;
  name?: string;
}

function site(given: Given) {
  return {
    metadata: {
      name: given.name ?? 'shop',
      uid: '6f1c2a8e-0000-4000-8000-000000000001',
      generation: 1,
      resourceVersion: '10',
      labels: {},
      annotations: {},
      finalizers: [],
      creationTimestamp: given.created ?? '2026-12-01T10:00:00Z',
      ...(given.deleting ? { deletionTimestamp: '2026-12-07T02:00:00Z' } : {}),
    },
    spec: siteSpecSchema.parse({
      domains: ['shop.example.test'],
      wordpress: { version: '6.4', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' },
      ...(given.schedule ? { backup: { schedule: given.schedule } } : {}),
    }),
    status: siteStatusSchema.parse({ phase: given.phase ?? 'ACTIVE', ...(given.last ? { lastScheduledBackup: given.last } : {}) }),
  };
}

describe('scheduledBackupDue: one Backup per cron run, for ACTIVE sites only', () => {
  it.each<[string, Given, string, string | undefined]>([
    ['no schedule: never', {}, '2026-12-07T03:00:00Z', undefined],
    ['the run of this minute is due', { schedule: '0 3 * * *' }, '2026-12-07T03:00:00Z', 'shop-20261207-0300'],
    ['later the same day: still that run', { schedule: '0 3 * * *' }, '2026-12-07T17:42:10Z', 'shop-20261207-0300'],
    ['the run already made: not again', { schedule: '0 3 * * *', last: '2026-12-07T03:00:00Z' }, '2026-12-07T17:42:10Z', undefined],
    ['the next run after the last made', { schedule: '0 3 * * *', last: '2026-12-07T03:00:00Z' }, '2026-12-08T03:00:30Z', 'shop-20261208-0300'],
    ['missed runs: only the newest', { schedule: '0 3 * * *', last: '2026-12-03T03:00:00Z' }, '2026-12-07T09:00:00Z', 'shop-20261207-0300'],
    ['a run before the site existed is not due', { schedule: '0 3 * * *', created: '2026-12-07T04:00:00Z' }, '2026-12-07T05:00:00Z', undefined],
    ['the first run after creation is', { schedule: '0 3 * * *', created: '2026-12-07T04:00:00Z' }, '2026-12-08T03:00:00Z', 'shop-20261208-0300'],
    ['hourly', { schedule: '@hourly', last: '2026-12-07T02:00:00Z' }, '2026-12-07T03:59:59Z', 'shop-20261207-0300'],
    ['every 15 minutes', { schedule: '*/15 * * * *', last: '2026-12-07T03:00:00Z' }, '2026-12-07T03:16:00Z', 'shop-20261207-0315'],
    ['a busy site (deploying) waits', { schedule: '0 3 * * *', phase: 'DEPLOYING' }, '2026-12-07T03:00:00Z', undefined],
    ['a failed site gets none', { schedule: '0 3 * * *', phase: 'FAILED' }, '2026-12-07T03:00:00Z', undefined],
    ['a pending site gets none', { schedule: '0 3 * * *', phase: 'PENDING' }, '2026-12-07T03:00:00Z', undefined],
    ['a site being deleted gets none', { schedule: '0 3 * * *', deleting: true }, '2026-12-07T03:00:00Z', undefined],
    ['a schedule that never runs', { schedule: '0 0 30 2 *' }, '2026-12-07T03:00:00Z', undefined],
  ])('%s', (_name, given, now, expected) => {
    expect(scheduledBackupDue(site(given), new Date(now))?.name).toBe(expected);
  });

  it('makes a scheduled, unretained Backup of the site, labelled with its name and uid', () => {
    const due = scheduledBackupDue(site({ schedule: '30 2 * * 1' }), new Date('2026-12-07T09:00:00Z'));
    expect(due).toEqual({
      run: new Date('2026-12-07T02:30:00Z'),
      name: 'shop-20261207-0230',
      labels: { 'pressluft.io/site': 'shop', 'pressluft.io/site-uid': '6f1c2a8e-0000-4000-8000-000000000001' },
      spec: { site: 'shop', reason: 'scheduled', retain: false },
    });
  });
});

describe('scheduledBackupName', () => {
  const run = new Date('2026-01-05T07:09:00Z');

  it('is the site and the run in UTC', () => {
    expect(scheduledBackupName('shop', run)).toBe('shop-20260105-0709');
  });

  it('fits a 40-character name and keeps two long names with the same beginning apart', () => {
    const a = scheduledBackupName('a-very-long-site-name-for-a-customer-one', run);
    const b = scheduledBackupName('a-very-long-site-name-for-a-customer-two', run);
    expect(a).toMatch(NAME_PATTERN);
    expect(b).toMatch(NAME_PATTERN);
    expect(a).not.toBe(b);
    expect(a.endsWith('-20260105-0709')).toBe(true);
    expect(scheduledBackupName('a-very-long-site-name-for-a-customer-one', run)).toBe(a);
  });

  it('keeps a 26-character name whole', () => {
    expect(scheduledBackupName('abcdefghijklmnopqrstuvwxyz', run)).toBe('abcdefghijklmnopqrstuvwxyz-20260105-0709');
  });
});

describe('nextScheduledBackup', () => {
  it.each<[string, Given, string, string | undefined]>([
    ['the next run', { schedule: '0 3 * * *' }, '2026-12-07T03:00:00Z', '2026-12-08T03:00:00.000Z'],
    ['a minute before', { schedule: '0 3 * * *' }, '2026-12-07T02:59:00Z', '2026-12-07T03:00:00.000Z'],
    ['no schedule', {}, '2026-12-07T03:00:00Z', undefined],
    ['a site being deleted', { schedule: '0 3 * * *', deleting: true }, '2026-12-07T03:00:00Z', undefined],
  ])('%s', (_name, given, now, expected) => {
    expect(nextScheduledBackup(site(given), new Date(now))?.toISOString()).toBe(expected);
  });
});
