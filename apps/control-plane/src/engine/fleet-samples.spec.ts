import { describe, expect, it } from 'vitest';
import type { FleetSnapshot } from './fleet-metrics.repository.js';
import { backupDueAt, FLEET_GAUGES, type Sample } from './fleet-samples.js';

const EMPTY: FleetSnapshot = {
  sitesByPhase: new Map(),
  troubledSites: [],
  nodes: [],
  commandsByState: new Map(),
  stalledCommands: [],
  backupsByPhase: new Map(),
  siteBackups: [],
  outbox: { unsent: 0, oldestSeconds: 0 },
  leaderEpoch: undefined,
};

function samples(name: string, snapshot: Partial<FleetSnapshot>): Sample[] {
  const gauge = FLEET_GAUGES.find((g) => g.name === name);
  if (!gauge) throw new Error(`no gauge ${name}`);
  return gauge.samples({ ...EMPTY, ...snapshot });
}

const at = (iso: string) => new Date(iso);
const seconds = (iso: string) => Date.parse(iso) / 1000;

describe('backupDueAt', () => {
  it.each([
    ['daily at 03:00, last success at 03:02: due at the next day 03:00', '0 3 * * *', '2026-12-01T00:00:00Z', '2026-12-06T03:02:00Z', '2026-12-07T03:00:00.000Z'],
    ['daily, never succeeded: the first run after creation', '0 3 * * *', '2026-12-06T10:00:00Z', undefined, '2026-12-07T03:00:00.000Z'],
    ['hourly, last success exactly on a run: the next run', '@hourly', '2026-12-01T00:00:00Z', '2026-12-06T10:00:00Z', '2026-12-06T11:00:00.000Z'],
    ['a schedule that never runs (31 February): no due time', '0 3 31 2 *', '2026-12-01T00:00:00Z', undefined, undefined],
  ])('%s', (_what, schedule, created, lastSuccess, due) => {
    expect(backupDueAt({ schedule, created: at(created), lastSuccess: lastSuccess ? at(lastSuccess) : undefined })?.toISOString()).toBe(due);
  });
});

describe('the fleet gauges', () => {
  it('names are unique', () => {
    const names = FLEET_GAUGES.map((g) => g.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    ['pressluft_sites', 'phase', 'sitesByPhase'],
    ['pressluft_commands', 'state', 'commandsByState'],
    ['pressluft_backups', 'phase', 'backupsByPhase'],
  ] as const)('%s: every known %s with its count, 0 for none, an unknown one from the store kept', (name, label, field) => {
    const result = samples(name, { [field]: new Map([['FAILED', 2], ['SOMETHING_NEW', 1]]) });
    expect(result).toContainEqual({ labels: { [label]: 'FAILED' }, value: 2 });
    expect(result).toContainEqual({ labels: { [label]: 'PENDING' }, value: 0 });
    expect(result).toContainEqual({ labels: { [label]: 'SOMETHING_NEW' }, value: 1 });
    expect(result.filter((s) => s.value === 0).length).toBe(result.length - 2);
  });

  it.each([
    ['a failed site', 'pressluft_site_failed', { troubledSites: [{ site: 'a', node: 'n1', failed: true, drifted: false }] }, [{ labels: { site: 'a', node: 'n1' }, value: 1 }]],
    ['a drifted site is not failed', 'pressluft_site_failed', { troubledSites: [{ site: 'b', node: 'n1', failed: false, drifted: true }] }, []],
    ['a drifted site', 'pressluft_site_drifted', { troubledSites: [{ site: 'b', node: 'n1', failed: false, drifted: true }] }, [{ labels: { site: 'b', node: 'n1' }, value: 1 }]],
    ['nodes ready and not', 'pressluft_node_ready', { nodes: [{ node: 'n1', ready: true }, { node: 'n2', ready: false }] }, [{ labels: { node: 'n1' }, value: 1 }, { labels: { node: 'n2' }, value: 0 }]],
    [
      'a stalled command',
      'pressluft_command_stalled',
      { stalledCommands: [{ command: 'shop-3', site: 'shop', node: 'n1', operation: 'DeploySite' }] },
      [{ labels: { command: 'shop-3', site: 'shop', node: 'n1', operation: 'DeploySite' }, value: 1 }],
    ],
    ['the outbox', 'pressluft_outbox_unsent', { outbox: { unsent: 4, oldestSeconds: 12.5 } }, [{ labels: {}, value: 4 }]],
    ['the outbox age', 'pressluft_outbox_oldest_unsent_seconds', { outbox: { unsent: 4, oldestSeconds: 12.5 } }, [{ labels: {}, value: 12.5 }]],
    ['the lease epoch', 'pressluft_leader_epoch', { leaderEpoch: 7 }, [{ labels: {}, value: 7 }]],
    ['no lease yet: no epoch series', 'pressluft_leader_epoch', {}, []],
  ] as const)('%s', (_what, name, snapshot, expected) => {
    expect(samples(name, snapshot as Partial<FleetSnapshot>)).toEqual(expected);
  });

  const backups = [
    { site: 'ok', schedule: '0 3 * * *', created: at('2026-12-01T00:00:00Z'), lastSuccess: at('2026-12-06T03:02:00Z'), lastFailed: false },
    { site: 'failing', schedule: '0 3 * * *', created: at('2026-12-01T00:00:00Z'), lastSuccess: at('2026-12-05T03:02:00Z'), lastFailed: true },
    { site: 'new', schedule: '0 3 * * *', created: at('2026-12-06T10:00:00Z'), lastSuccess: undefined, lastFailed: false },
  ];

  it.each([
    ['pressluft_backup_failed', [{ labels: { site: 'failing' }, value: 1 }]],
    ['pressluft_backup_last_success_timestamp_seconds', [{ labels: { site: 'ok' }, value: seconds('2026-12-06T03:02:00Z') }, { labels: { site: 'failing' }, value: seconds('2026-12-05T03:02:00Z') }]],
    [
      'pressluft_backup_due_timestamp_seconds',
      [
        { labels: { site: 'ok' }, value: seconds('2026-12-07T03:00:00Z') },
        { labels: { site: 'failing' }, value: seconds('2026-12-06T03:00:00Z') },
        { labels: { site: 'new' }, value: seconds('2026-12-07T03:00:00Z') },
      ],
    ],
  ])('%s per site with a backup schedule', (name, expected) => {
    expect(samples(name, { siteBackups: backups })).toEqual(expected);
  });
});
