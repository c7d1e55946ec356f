import type { BackupSpec } from './backup.js';
import { BACKUP_SITE_LABEL, BACKUP_SITE_UID_LABEL } from './backup.js';
import { lastCronRun, nextCronRun } from './cron.js';
import { derivedName } from './derived-names.js';
import type { Resource } from './resource.js';
import type { SiteSpec, SiteStatus } from './site.js';

/**
 * Scheduled backups (spec.backup.schedule, cron in UTC), like a CronJob: each run of the
 * schedule makes one Backup named after the run, and status.lastScheduledBackup remembers the
 * run so that a Backup deleted by hand is not made again. Only the newest run counts: a control
 * plane that was down for three runs makes one Backup, not three.
 */

type ScheduledSite = Pick<Resource<SiteSpec, SiteStatus>, 'metadata' | 'spec' | 'status'>;

export interface ScheduledBackup {
  /** The cron run (UTC minute) the backup is for. */
  readonly run: Date;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly spec: BackupSpec;
}

/**
 * `<site>-<yyyymmdd-hhmm>` of the run (UTC). A site name too long for that is cut and tagged with
 * a hash of the whole name, so two long names with a common beginning never share a Backup name.
 */
export function scheduledBackupName(site: string, run: Date): string {
  const iso = run.toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  return derivedName(site, stamp);
}

/**
 * The Backup due now for the site's schedule, or undefined: the newest run at or before `now`
 * is due when it is later than the site's creation and than the last run a Backup was made for,
 * and the site is ACTIVE and not being deleted (a busy site gets it when it is ACTIVE again).
 */
export function scheduledBackupDue(site: ScheduledSite, now: Date): ScheduledBackup | undefined {
  const schedule = site.spec.backup?.schedule;
  if (!schedule || site.metadata.deletionTimestamp || site.status.phase !== 'ACTIVE') return undefined;
  const run = lastCronRun(schedule, now);
  if (!run) return undefined;
  const done = site.status.lastScheduledBackup ?? site.metadata.creationTimestamp;
  if (run.getTime() <= Date.parse(done)) return undefined;
  const name = site.metadata.name;
  return {
    run,
    name: scheduledBackupName(name, run),
    labels: { [BACKUP_SITE_LABEL]: name, [BACKUP_SITE_UID_LABEL]: site.metadata.uid },
    spec: { site: name, reason: 'scheduled', retain: false },
  };
}

/** When the site's backup schedule next runs (the reconciler requeues for then); undefined without one. */
export function nextScheduledBackup(site: Pick<ScheduledSite, 'spec' | 'metadata'>, now: Date): Date | undefined {
  const schedule = site.spec.backup?.schedule;
  return schedule && !site.metadata.deletionTimestamp ? nextCronRun(schedule, now) : undefined;
}
