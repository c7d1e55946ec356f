import { COMMAND_STATES, nextCronRun, RUN_PHASES, SITE_PHASES } from '@pressluft/domain';
import type { FleetSnapshot, SiteBackups } from './fleet-metrics.repository.js';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A gauge computed from the state store on each scrape; every replica reports the same values. */
export interface FleetGauge {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly samples: (snapshot: FleetSnapshot) => Sample[];
}

/** Every known value with its count (0 when none), plus any unknown one the store holds. */
function byValue(label: string, known: readonly string[], counts: ReadonlyMap<string, number>): Sample[] {
  const keys = [...new Set([...known, ...counts.keys()])];
  return keys.map((key) => ({ labels: { [label]: key }, value: counts.get(key) ?? 0 }));
}

const seconds = (date: Date): number => date.getTime() / 1000;

/**
 * When the site's next successful backup is due: the schedule's first run after the last
 * success (after the site's creation when it never had one). Undefined for a schedule that
 * never runs.
 */
export function backupDueAt(site: Pick<SiteBackups, 'schedule' | 'created' | 'lastSuccess'>): Date | undefined {
  return nextCronRun(site.schedule, site.lastSuccess ?? site.created);
}

/**
 * The fleet gauges. Per-site series exist only where a per-site alert needs them, and only
 * while something is wrong (a failed, drifted or stalled site; a failing backup), except the two
 * backup timestamps, which exist for each site with a backup schedule: an overdue backup has
 * nothing else to show by.
 */
export const FLEET_GAUGES: readonly FleetGauge[] = [
  {
    name: 'pressluft_sites',
    help: 'Sites by status.phase',
    labelNames: ['phase'],
    samples: (s) => byValue('phase', SITE_PHASES, s.sitesByPhase),
  },
  {
    name: 'pressluft_site_failed',
    help: '1 for each site in phase FAILED (no series for other sites)',
    labelNames: ['site', 'node'],
    samples: (s) => s.troubledSites.filter((t) => t.failed).map((t) => ({ labels: { site: t.site, node: t.node }, value: 1 })),
  },
  {
    name: 'pressluft_site_drifted',
    help: '1 for each site whose condition Drifted is True (no series for other sites)',
    labelNames: ['site', 'node'],
    samples: (s) => s.troubledSites.filter((t) => t.drifted).map((t) => ({ labels: { site: t.site, node: t.node }, value: 1 })),
  },
  {
    name: 'pressluft_node_ready',
    help: "1 while the node's condition Ready is True, else 0",
    labelNames: ['node'],
    samples: (s) => s.nodes.map((n) => ({ labels: { node: n.node }, value: n.ready ? 1 : 0 })),
  },
  {
    name: 'pressluft_commands',
    help: 'Commands by state (kept ones: the pruner removes old finished commands)',
    labelNames: ['state'],
    samples: (s) => byValue('state', COMMAND_STATES, s.commandsByState),
  },
  {
    name: 'pressluft_command_stalled',
    help: '1 for each STALLED command, waiting for an operator to retry or abandon it',
    labelNames: ['command', 'site', 'node', 'operation'],
    samples: (s) => s.stalledCommands.map((c) => ({ labels: { command: c.command, site: c.site, node: c.node, operation: c.operation }, value: 1 })),
  },
  {
    name: 'pressluft_backups',
    help: 'Backup objects by status.phase',
    labelNames: ['phase'],
    samples: (s) => byValue('phase', RUN_PHASES, s.backupsByPhase),
  },
  {
    name: 'pressluft_backup_failed',
    help: "1 for each site whose newest finished backup FAILED (no series once a later one succeeds)",
    labelNames: ['site'],
    samples: (s) => s.siteBackups.filter((b) => b.lastFailed).map((b) => ({ labels: { site: b.site }, value: 1 })),
  },
  {
    name: 'pressluft_backup_last_success_timestamp_seconds',
    help: "When the site's newest successful backup completed (sites with a backup schedule that have one)",
    labelNames: ['site'],
    samples: (s) => s.siteBackups.flatMap((b) => (b.lastSuccess ? [{ labels: { site: b.site }, value: seconds(b.lastSuccess) }] : [])),
  },
  {
    name: 'pressluft_backup_due_timestamp_seconds',
    help: "When the site's next successful backup is due: its schedule's first run after the last success (or the site's creation)",
    labelNames: ['site'],
    samples: (s) =>
      s.siteBackups.flatMap((b) => {
        const due = backupDueAt(b);
        return due ? [{ labels: { site: b.site }, value: seconds(due) }] : [];
      }),
  },
  {
    name: 'pressluft_outbox_unsent',
    help: 'Outbox rows (commands) not yet published to NATS',
    labelNames: [],
    samples: (s) => [{ labels: {}, value: s.outbox.unsent }],
  },
  {
    name: 'pressluft_outbox_oldest_unsent_seconds',
    help: 'Age of the oldest unsent outbox row (0 when none waits)',
    labelNames: [],
    samples: (s) => [{ labels: {}, value: s.outbox.oldestSeconds }],
  },
  {
    name: 'pressluft_leader_epoch',
    help: "The controller lease's epoch: grows by one each time the lease changes hands",
    labelNames: [],
    samples: (s) => (s.leaderEpoch === undefined ? [] : [{ labels: {}, value: s.leaderEpoch }]),
  },
];
