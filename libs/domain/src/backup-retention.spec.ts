import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BACKUP_REASONS,
  isoWeek,
  planBackupRetention,
  type BackupReason,
  type BackupRetentionInput,
  type BackupRetentionPolicy,
  type BackupRetentionSnapshot,
} from './backup-retention.js';

const NOW = new Date('2027-01-10T12:00:00Z');
const DAY_MS = 86_400_000;

/** "id@time" shorthand; a "!" suffix marks retain, a "pre-delete:" prefix the reason. */
function snap(spec: string): BackupRetentionSnapshot {
  const retain = spec.endsWith('!');
  const body = retain ? spec.slice(0, -1) : spec;
  const [reasonAndId, time] = body.split('@') as [string, string];
  const [reason, id] = reasonAndId.includes(':') ? (reasonAndId.split(':') as [BackupReason, string]) : (['scheduled' as const, reasonAndId] as const);
  return { id, time, reason, ...(retain ? { retain } : {}) };
}

function plan(specs: readonly string[], policy: BackupRetentionPolicy, extra: Partial<BackupRetentionInput> = {}) {
  return planBackupRetention({ snapshots: specs.map(snap), policy, now: NOW, siteExists: true, ...extra });
}

const keptIds = (specs: readonly string[], policy: BackupRetentionPolicy, extra: Partial<BackupRetentionInput> = {}): string[] =>
  plan(specs, policy, extra).keep.map((k) => k.id);

const P = (daily: number, weekly: number, monthly: number): BackupRetentionPolicy => ({ daily, weekly, monthly });

describe('isoWeek (UTC, weeks start on Monday, the year of its Thursday)', () => {
  it.each([
    ['2026-12-06T23:59:59Z', '2026-W49'], // Sunday
    ['2026-12-07T00:00:00Z', '2026-W50'], // Monday
    ['2026-12-28T00:00:00Z', '2026-W53'], // 2026 has 53 ISO weeks (1 Jan 2026 is a Thursday)
    ['2026-12-31T12:00:00Z', '2026-W53'],
    ['2027-01-01T00:00:00Z', '2026-W53'],
    ['2027-01-03T23:59:59Z', '2026-W53'],
    ['2027-01-04T00:00:00Z', '2027-W01'],
    ['2025-12-29T00:00:00Z', '2026-W01'], // a Monday in December that starts the next year's week 1
    ['2026-01-01T00:00:00Z', '2026-W01'],
    ['2024-12-31T00:00:00Z', '2025-W01'],
    ['2021-01-03T00:00:00Z', '2020-W53'],
  ])('%s is in %s', (time, week) => {
    expect(isoWeek(new Date(time))).toBe(week);
  });
});

describe('planBackupRetention: the policy, table-driven', () => {
  it.each<[string, string[], BackupRetentionPolicy, string[]]>([
    ['an empty list', [], P(7, 4, 3), []],
    ['one snapshot (newest)', ['a@2027-01-01T01:00Z'], P(0, 0, 0), ['a']],
    ['several per day: the newest of each day', ['a@2027-01-09T01:00Z', 'b@2027-01-09T13:00Z', 'c@2027-01-08T23:00Z', 'd@2027-01-08T01:00Z'], P(2, 0, 0), ['b', 'c']],
    ['daily N counts days that have snapshots, across gaps', ['a@2027-01-09T01:00Z', 'b@2027-01-05T01:00Z', 'c@2026-12-20T01:00Z', 'd@2026-12-19T01:00Z'], P(3, 0, 0), ['a', 'b', 'c']],
    ['never more days than N', ['a@2027-01-09T01:00Z', 'b@2027-01-08T01:00Z', 'c@2027-01-07T01:00Z'], P(1, 0, 0), ['a']],
    ['days are UTC: 23:59 and 00:00 are different days', ['a@2027-01-09T00:00Z', 'b@2027-01-08T23:59Z'], P(2, 0, 0), ['a', 'b']],
    // 2027-01-04 is a Monday: the Sunday before is in the previous ISO week
    ['week boundary: Sunday and Monday are different weeks', ['a@2027-01-04T01:00Z', 'b@2027-01-03T23:00Z', 'c@2027-01-02T01:00Z'], P(0, 2, 0), ['a', 'b']],
    ['year boundary week: 2026-12-28 .. 2027-01-03 is one week', ['a@2027-01-03T01:00Z', 'b@2027-01-01T01:00Z', 'c@2026-12-31T01:00Z', 'd@2026-12-27T01:00Z'], P(0, 2, 0), ['a', 'd']],
    ['month boundary', ['a@2027-01-01T00:00Z', 'b@2026-12-31T23:59Z', 'c@2026-12-01T00:00Z', 'd@2026-11-30T23:59Z'], P(0, 0, 3), ['a', 'b', 'd']],
    ['monthly across a gap of months', ['a@2027-01-05T00:00Z', 'b@2026-09-05T00:00Z', 'c@2026-09-01T00:00Z', 'd@2026-02-01T00:00Z'], P(0, 0, 2), ['a', 'b']],
    ['a snapshot kept by several rules counts for each', ['a@2027-01-09T01:00Z', 'b@2027-01-08T01:00Z', 'c@2026-12-31T01:00Z'], P(1, 2, 2), ['a', 'c']],
    ['N=0 turns a rule off', ['a@2027-01-09T01:00Z', 'b@2027-01-02T01:00Z', 'c@2026-12-26T01:00Z'], P(0, 0, 2), ['a', 'c']],
    ['all-zero policy keeps only the newest', ['a@2027-01-09T01:00Z', 'b@2027-01-08T01:00Z', 'c@2026-12-01T01:00Z'], P(0, 0, 0), ['a']],
    ['all-zero policy keeps the newest and retained ones', ['a@2027-01-09T01:00Z', 'b@2027-01-08T01:00Z', 'c@2020-12-01T01:00Z!'], P(0, 0, 0), ['a', 'c']],
    ['retained old ones are kept and still count in their period', ['a@2027-01-09T01:00Z', 'b@2027-01-08T01:00Z!', 'c@2027-01-08T00:00Z'], P(2, 0, 0), ['a', 'b']],
    ['unsorted input', ['c@2027-01-07T01:00Z', 'a@2027-01-09T01:00Z', 'b@2027-01-08T01:00Z'], P(2, 0, 0), ['a', 'b']],
    ['duplicate times: the smaller id is the newer', ['b@2027-01-09T01:00Z', 'a@2027-01-09T01:00Z', 'c@2027-01-08T01:00Z'], P(2, 0, 0), ['a', 'c']],
    ['pre-delete inside its period', ['a@2027-01-09T01:00Z', 'pre-delete:p@2026-12-20T01:00Z', 'b@2026-12-19T01:00Z'], P(1, 0, 0), ['a', 'p']],
    ['pre-delete outside its period: normal rules', ['a@2027-01-09T01:00Z', 'pre-delete:p@2026-12-01T01:00Z', 'b@2026-11-19T01:00Z'], P(1, 0, 2), ['a', 'p']],
    ['pre-delete outside its period and no rule for it', ['a@2027-01-09T01:00Z', 'pre-delete:p@2026-12-01T01:00Z'], P(1, 0, 0), ['a']],
    ['unscheduled backups are kept for the keep period, whatever the rules say', ['pre-restore:r@2027-01-09T02:00Z', 'manual:m@2027-01-09T01:00Z', 'pre-sync:s@2027-01-08T01:00Z', 'x@2027-01-07T01:00Z'], P(1, 0, 0), ['r', 'm', 's']],
    ['a manual backup taken before a scheduled one the same day stays', ['b@2027-01-09T03:00Z', 'manual:m@2027-01-09T01:00Z'], P(7, 4, 0), ['b', 'm']],
    ['unscheduled backups past the keep period follow the normal rules', ['pre-restore:r@2026-12-09T02:00Z', 'manual:m@2026-12-09T01:00Z', 'pre-sync:s@2026-12-01T01:00Z', 'a@2027-01-09T01:00Z'], P(1, 0, 2), ['a', 'r']],
  ])('%s', (_, specs, policy, kept) => {
    expect(keptIds(specs, policy)).toEqual(kept);
  });

  it('gives people a reason for each decision, newest first', () => {
    const result = plan(['b@2026-12-31T01:00Z', 'a@2027-01-09T01:00Z!', 'pre-delete:p@2027-01-02T01:00Z', 'c@2026-12-30T01:00Z'], P(1, 1, 2));
    expect(result.keep).toEqual([
      { id: 'a', time: new Date('2027-01-09T01:00Z'), reasons: ['retained', 'newest', 'daily 2027-01-09', 'weekly 2027-W01', 'monthly 2027-01'] },
      { id: 'p', time: new Date('2027-01-02T01:00Z'), reasons: ['pre-delete backup kept until 2027-02-01'] },
      { id: 'b', time: new Date('2026-12-31T01:00Z'), reasons: ['monthly 2026-12'] },
    ]);
    expect(result.forget).toEqual([{ id: 'c', time: new Date('2026-12-30T01:00Z'), reasons: ['outside the retention policy'] }]);
  });

  it('the pre-delete period ends exactly at time + days (a configured period)', () => {
    const specs = ['pre-delete:p@2027-01-05T12:00Z'];
    const gone = { siteExists: false, preDeleteKeepDays: 5 };
    expect(keptIds(specs, P(7, 4, 3), { ...gone, now: new Date('2027-01-10T11:59:59.999Z') })).toEqual(['p']);
    expect(plan(specs, P(7, 4, 3), { ...gone, now: new Date('2027-01-10T12:00:00Z') }).forget).toEqual([
      { id: 'p', time: new Date('2027-01-05T12:00Z'), reasons: ['site deleted'] },
    ]);
  });

  it.each<[string, string[], string[]]>([
    ['keeps retained and pre-delete inside its period, nothing else (not even the newest)', ['a@2027-01-09T01:00Z', 'pre-delete:p@2027-01-08T01:00Z', 'b@2026-01-08T01:00Z!'], ['p', 'b']],
    ['forgets everything once the period is over', ['pre-delete:p@2026-12-01T01:00Z', 'a@2026-11-30T01:00Z'], []],
  ])('a deleted site %s', (_, specs, kept) => {
    expect(keptIds(specs, P(7, 4, 3), { siteExists: false })).toEqual(kept);
  });

  it('accepts Date times and rejects invalid ones', () => {
    const at = new Date('2027-01-09T01:00Z');
    expect(planBackupRetention({ snapshots: [{ id: 'a', time: at, reason: 'manual' }], policy: P(1, 0, 0), now: NOW, siteExists: true }).keep).toHaveLength(1);
    expect(() => planBackupRetention({ snapshots: [{ id: 'x', time: 'yesterday', reason: 'manual' }], policy: P(1, 0, 0), now: NOW, siteExists: true })).toThrow(
      /backup x has an invalid time/,
    );
  });
});

describe('90 simulated days of daily scheduled backups with {daily 7, weekly 4, monthly 3}', () => {
  const start = Date.parse('2026-10-01T03:00:00Z'); // a Thursday
  const policy = P(7, 4, 3);

  /** Each day: take a backup at 03:00 UTC, then apply retention to what is in the repository. */
  function simulate(days: number): string[] {
    let repository: BackupRetentionSnapshot[] = [];
    for (let day = 0; day < days; day += 1) {
      const time = new Date(start + day * DAY_MS);
      repository.push({ id: time.toISOString().slice(0, 10), time, reason: 'scheduled' });
      const kept = new Set(planBackupRetention({ snapshots: repository, policy, now: time, siteExists: true }).keep.map((k) => k.id));
      repository = repository.filter((s) => kept.has(s.id));
    }
    return repository.map((s) => s.id).sort();
  }

  it.each([
    [1, ['2026-10-01']],
    [7, ['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07']],
    // day 10 = Sat 10 Oct: daily 4..10 Oct; week 41 is today, week 40 (28 Sep..4 Oct) 4 Oct; 1 Oct shares its week and month
    [10, ['2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07', '2026-10-08', '2026-10-09', '2026-10-10']],
    // day 32 = Sun 1 Nov: daily 26 Oct..1 Nov; weekly 1 Nov, 25, 18, 11 Oct; monthly 1 Nov, 31 Oct (no September)
    [32, ['2026-10-11', '2026-10-18', '2026-10-25', '2026-10-26', '2026-10-27', '2026-10-28', '2026-10-29', '2026-10-30', '2026-10-31', '2026-11-01']],
    // day 90 = Tue 29 Dec (2026-W53): daily 23..29 Dec; weekly 29, 27, 20, 13 Dec; monthly 29 Dec, 30 Nov, 31 Oct
    [90, ['2026-10-31', '2026-11-30', '2026-12-13', '2026-12-20', '2026-12-23', '2026-12-24', '2026-12-25', '2026-12-26', '2026-12-27', '2026-12-28', '2026-12-29']],
  ])('after %i days the repository holds exactly %j', (days, expected) => {
    expect(simulate(days)).toEqual(expected);
  });

  it('forgetting daily gives the same set as forgetting once at the end', () => {
    const all: BackupRetentionSnapshot[] = Array.from({ length: 90 }, (_, day) => {
      const time = new Date(start + day * DAY_MS);
      return { id: time.toISOString().slice(0, 10), time, reason: 'scheduled' };
    });
    const once = planBackupRetention({ snapshots: all, policy, now: new Date(start + 89 * DAY_MS), siteExists: true }).keep.map((k) => k.id);
    expect([...once].sort()).toEqual(simulate(90));
  });
});

describe('planBackupRetention: invariants (fast-check)', () => {
  const base = Date.parse('2026-06-01T00:00:00Z');
  const snapshotArb = fc.record({
    id: fc.stringMatching(/^[0-9a-f]{8}$/),
    // up to about 400 days, in 5-minute steps so duplicates and same-day pairs happen
    time: fc.integer({ min: 0, max: 400 * 288 }).map((step) => new Date(base + step * 300_000)),
    reason: fc.constantFrom(...BACKUP_REASONS),
    retain: fc.boolean(),
  });
  const listArb = fc.uniqueArray(snapshotArb, { selector: (s) => s.id, maxLength: 60 });
  const policyArb = fc.record({ daily: fc.nat(10), weekly: fc.nat(6), monthly: fc.nat(6) });
  const inputArb = fc.record({
    snapshots: listArb,
    policy: policyArb,
    now: fc.integer({ min: 0, max: 500 }).map((days) => new Date(base + days * DAY_MS)),
    siteExists: fc.boolean(),
    preDeleteKeepDays: fc.nat(60),
  });

  it('keep and forget partition the input', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { keep, forget } = planBackupRetention(input);
        const ids = [...keep, ...forget].map((d) => d.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect([...ids].sort()).toEqual(input.snapshots.map((s) => s.id).sort());
      }),
    );
  });

  it('the newest is kept while the site exists; retained ones always', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const kept = new Set(planBackupRetention(input).keep.map((k) => k.id));
        const newest = Math.max(...input.snapshots.map((s) => s.time.getTime()));
        if (input.siteExists && input.snapshots.length > 0) expect(input.snapshots.some((s) => s.time.getTime() === newest && kept.has(s.id))).toBe(true);
        for (const s of input.snapshots) if (s.retain) expect(kept.has(s.id)).toBe(true);
      }),
    );
  });

  it('applying it again to the kept set keeps all of it', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const kept = new Set(planBackupRetention(input).keep.map((k) => k.id));
        const again = planBackupRetention({ ...input, snapshots: input.snapshots.filter((s) => kept.has(s.id)) });
        expect(again.forget).toEqual([]);
      }),
    );
  });

  it('a more generous policy never keeps less', () => {
    fc.assert(
      fc.property(inputArb, policyArb, (input, more) => {
        const generous = { daily: input.policy.daily + more.daily, weekly: input.policy.weekly + more.weekly, monthly: input.policy.monthly + more.monthly };
        const kept = planBackupRetention(input).keep.map((k) => k.id);
        const keptGenerous = new Set(planBackupRetention({ ...input, policy: generous }).keep.map((k) => k.id));
        for (const id of kept) expect(keptGenerous.has(id)).toBe(true);
      }),
    );
  });

  it('each rule keeps at most N snapshots, one per period', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const reasons = planBackupRetention(input).keep.flatMap((k) => k.reasons);
        for (const rule of ['daily', 'weekly', 'monthly'] as const) {
          const periods = reasons.filter((r) => r.startsWith(`${rule} `));
          expect(periods.length).toBeLessThanOrEqual(input.policy[rule]);
          expect(new Set(periods).size).toBe(periods.length);
        }
      }),
    );
  });
});
