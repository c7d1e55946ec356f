/**
 * Which of one site's backups (restic snapshots) to keep and which to forget (issue 17). The
 * control plane decides here and runs `restic forget <ids>` plus prune with the answer.
 *
 * The period rules are restic 0.14's `forget --keep-daily D --keep-weekly W --keep-monthly M`
 * (internal/restic/snapshot_policy.go): walk the snapshots newest first; a rule keeps a snapshot
 * when its period (UTC day, ISO week starting Monday, month) differs from the period of the
 * last snapshot that rule kept, until it has kept N; one snapshot may be kept by several rules.
 * So each rule keeps the newest snapshot of its N most recent periods that have snapshots.
 *
 * Deviations from restic, on purpose:
 * - Periods are UTC (restic uses the host's local time zone), so the answer does not depend on
 *   where the control plane runs.
 * - The newest snapshot of an existing site is always kept, so no policy deletes everything; an
 *   all-zero policy keeps only it (restic keeps everything for an empty policy).
 * - Retained backups (spec.retain) are always kept, like restic's `--keep-tag`; they and the
 *   other exempt ones still count in the period rules, as tagged snapshots do in restic.
 * - A backup that was not scheduled (manual, or taken before a destructive operation: pre-delete,
 *   pre-restore, pre-sync, pre-migrate) is kept until its time + the keep period (spec.backup.
 *   preDeleteKeepDays, default 30 days), then normal rules: a scheduled run the same day must not
 *   make the backup someone took before an upgrade, or the safety net of a restore, disappear.
 * - Once the site is gone, only retained backups and pre-delete backups inside their period are
 *   kept: the period rules and the newest rule would otherwise keep a deleted site's data forever
 *   (no new snapshots arrive to push the old ones out).
 * - restic 0.17+ also keeps the oldest snapshot while a rule has counts left; 0.14 (ours) does
 *   not, nor does this.
 * - Snapshots with the same time are ordered by id, so the answer is deterministic.
 */

export const BACKUP_REASONS = ['manual', 'scheduled', 'pre-delete', 'pre-restore', 'pre-sync', 'pre-migrate', 'pre-promotion', 'clone-source', 'sync-source'] as const;
export type BackupReason = (typeof BACKUP_REASONS)[number];

export const DEFAULT_PRE_DELETE_KEEP_DAYS = 30;

export interface BackupRetentionSnapshot {
  readonly id: string;
  readonly time: Date | string;
  readonly reason: BackupReason;
  /** spec.retain: exempt from retention. */
  readonly retain?: boolean;
}

/** Counts of periods to keep (spec.backup.retention); 0 turns a rule off. */
export interface BackupRetentionPolicy {
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
}

export interface BackupRetentionInput {
  readonly snapshots: readonly BackupRetentionSnapshot[];
  readonly policy: BackupRetentionPolicy;
  readonly now: Date;
  readonly siteExists: boolean;
  readonly preDeleteKeepDays?: number;
}

export interface BackupRetentionDecision {
  readonly id: string;
  readonly time: Date;
  /** For people: why it is kept ("daily 2026-12-01", "retained", ...) or forgotten. */
  readonly reasons: readonly string[];
}

/** Both lists newest first (ties by id); every input snapshot is in exactly one of them. */
export interface BackupRetentionPlan {
  readonly keep: readonly BackupRetentionDecision[];
  readonly forget: readonly BackupRetentionDecision[];
}

const DAY_MS = 86_400_000;

const pad = (n: number): string => String(n).padStart(2, '0');

function isoDay(t: Date): string {
  return t.toISOString().slice(0, 10);
}

function isoMonth(t: Date): string {
  return t.toISOString().slice(0, 7);
}

/** ISO 8601 week in UTC, e.g. "2026-W53": the week (Monday to Sunday) belongs to the year of its Thursday. */
export function isoWeek(t: Date): string {
  const midnight = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
  const mondayBased = (t.getUTCDay() + 6) % 7;
  const thursday = new Date(midnight + (3 - mondayBased) * DAY_MS);
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((thursday.getTime() - yearStart) / DAY_MS + 1) / 7);
  return `${thursday.getUTCFullYear()}-W${pad(week)}`;
}

const RULES = [
  { name: 'daily', period: isoDay },
  { name: 'weekly', period: isoWeek },
  { name: 'monthly', period: isoMonth },
] as const;

function toDate(time: Date | string, id: string): Date {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw new RangeError(`backup ${id} has an invalid time: ${String(time)}`);
  return date;
}

export function planBackupRetention(input: BackupRetentionInput): BackupRetentionPlan {
  const keepDays = input.preDeleteKeepDays ?? DEFAULT_PRE_DELETE_KEEP_DAYS;
  const sorted = input.snapshots
    .map((s) => ({ ...s, date: toDate(s.time, s.id) }))
    .sort((a, b) => b.date.getTime() - a.date.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const ruleState = RULES.map((rule) => ({ ...rule, left: input.policy[rule.name], last: '' }));
  const keep: BackupRetentionDecision[] = [];
  const forget: BackupRetentionDecision[] = [];

  sorted.forEach((snapshot, index) => {
    const reasons: string[] = [];
    if (snapshot.retain === true) reasons.push('retained');
    if (snapshot.reason !== 'scheduled') {
      const until = new Date(snapshot.date.getTime() + keepDays * DAY_MS);
      if (input.now < until) reasons.push(`${snapshot.reason} backup kept until ${isoDay(until)}`);
    }
    const ruleReasons: string[] = [];
    for (const rule of ruleState) {
      const period = rule.period(snapshot.date);
      if (rule.left > 0 && period !== rule.last) {
        rule.left -= 1;
        rule.last = period;
        ruleReasons.push(`${rule.name} ${period}`);
      }
    }
    if (input.siteExists) {
      if (index === 0) reasons.push('newest');
      reasons.push(...ruleReasons);
    }
    if (reasons.length > 0) keep.push({ id: snapshot.id, time: snapshot.date, reasons });
    else forget.push({ id: snapshot.id, time: snapshot.date, reasons: [input.siteExists ? 'outside the retention policy' : 'site deleted'] });
  });

  return { keep, forget };
}
