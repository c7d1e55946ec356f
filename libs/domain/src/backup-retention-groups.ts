import { BACKUP_SITE_UID_LABEL, type BackupSpec, type BackupStatus, type RestoreSpec, type RestoreStatus } from './backup.js';
import { planBackupRetention, type BackupRetentionPolicy } from './backup-retention.js';
import type { Resource } from './resource.js';
import { backupPolicySchema, type SiteSpec } from './site.js';

/**
 * What the retention runner plans over: a site incarnation's SUCCEEDED Backups in one store
 * (restic snapshots of one site in one repository), with the policy of the live site or, once
 * it is gone, what its Backups recorded.
 */

type Backup = Pick<Resource<BackupSpec, BackupStatus>, 'metadata' | 'spec' | 'status'>;

export interface BackupGroup {
  readonly store: string;
  readonly site: string;
  readonly siteUid: string;
  /** Oldest name first (the order does not matter to the plan). */
  readonly backups: readonly Backup[];
}

export interface BackupForgotten {
  readonly backup: Backup;
  /** For people: why retention removes it. */
  readonly reasons: readonly string[];
}

/** A backup retention acts on: SUCCEEDED with its snapshots, store, site uid and time, and not being deleted already. */
function planned(backup: Backup): boolean {
  const { status } = backup;
  return (
    status.phase === 'SUCCEEDED' &&
    !backup.metadata.deletionTimestamp &&
    status.store !== undefined &&
    status.snapshotTime !== undefined &&
    siteUidOf(backup) !== undefined &&
    snapshotIds(backup).length > 0
  );
}

function siteUidOf(backup: Backup): string | undefined {
  return backup.status.siteUid ?? backup.metadata.labels[BACKUP_SITE_UID_LABEL];
}

/** The restic snapshot ids of a Backup (database, files, manifest: those it has). */
export function snapshotIds(backup: Pick<Backup, 'status'>): string[] {
  const snapshots = backup.status.snapshots ?? {};
  return [snapshots.database, snapshots.files, snapshots.manifest].filter((id): id is string => id !== undefined);
}

type Restore = Pick<Resource<RestoreSpec, RestoreStatus>, 'spec' | 'status'>;

/** A Restore not finished yet still needs its backup and its pre-restore backup. */
function unfinished(restore: Restore): boolean {
  return restore.status.phase === 'PENDING' || restore.status.phase === 'RUNNING';
}

/**
 * Stores a backup is being written to, or a restore read from, now: retention leaves them alone
 * (prune takes restic's exclusive lock, and restic 0.14 fails at once on a locked repository).
 */
export function storesInUse(backups: readonly Pick<Backup, 'metadata' | 'status'>[], restores: readonly Restore[] = []): Set<string> {
  const stores = new Set(backups.flatMap((b) => (b.status.phase === 'RUNNING' && b.status.store !== undefined ? [b.status.store] : [])));
  const reading = new Set(restores.filter((r) => r.status.phase === 'RUNNING').map((r) => r.spec.backup));
  for (const backup of backups) if (reading.has(backup.metadata.name) && backup.status.store !== undefined) stores.add(backup.status.store);
  return stores;
}

/** Backups an unfinished Restore needs (what it restores, and the pre-restore backup it took): retention never forgets them. */
export function backupsInUse(restores: readonly Restore[]): Set<string> {
  return new Set(restores.filter(unfinished).flatMap((r) => [r.spec.backup, ...(r.status.preRestoreBackup ? [r.status.preRestoreBackup] : [])]));
}

/** Groups by (store, site, site uid): a site deleted and created again under its name is another incarnation. */
export function groupBackups(backups: readonly Backup[]): BackupGroup[] {
  const groups = new Map<string, { store: string; site: string; siteUid: string; backups: Backup[] }>();
  for (const backup of backups) {
    if (!planned(backup)) continue;
    const store = backup.status.store ?? '';
    const siteUid = siteUidOf(backup) ?? '';
    const key = `${store}\0${backup.spec.site}\0${siteUid}`;
    const group = groups.get(key) ?? { store, site: backup.spec.site, siteUid, backups: [] };
    group.backups.push(backup);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** A deleted site's pre-delete period: what the newest pre-delete backup recorded of its spec (the period at deletion). */
function recordedKeepDays(backups: readonly Backup[]): number | undefined {
  const preDelete = backups.filter((b) => b.spec.reason === 'pre-delete').sort((a, b) => Date.parse(b.status.snapshotTime ?? '') - Date.parse(a.status.snapshotTime ?? ''));
  const recorded = backupPolicySchema.safeParse((preDelete[0]?.status.siteSpec as { backup?: unknown } | undefined)?.backup ?? {});
  return recorded.success ? recorded.data.preDeleteKeepDays : undefined;
}

/**
 * Which of the group's Backups retention forgets. `site` is the Site of the group's name now
 * (any incarnation, or undefined): only the same uid counts as the site existing; a site being
 * deleted still exists (its deletion may not be done).
 */
export function planBackupGroup(group: BackupGroup, site: Pick<Resource<SiteSpec>, 'metadata' | 'spec'> | undefined, now: Date): BackupForgotten[] {
  const siteExists = site !== undefined && site.metadata.uid === group.siteUid;
  const policy = backupPolicySchema.parse(siteExists ? (site.spec.backup ?? {}) : {});
  const retention: BackupRetentionPolicy = policy.retention;
  const keepDays = siteExists ? policy.preDeleteKeepDays : recordedKeepDays(group.backups);
  const byName = new Map(group.backups.map((backup) => [backup.metadata.name, backup]));
  const plan = planBackupRetention({
    snapshots: group.backups.map((b) => ({ id: b.metadata.name, time: b.status.snapshotTime ?? '', reason: b.spec.reason, retain: b.spec.retain })),
    policy: retention,
    now,
    siteExists,
    ...(keepDays !== undefined ? { preDeleteKeepDays: keepDays } : {}),
  });
  return plan.forget.flatMap(({ id, reasons }) => {
    const backup = byName.get(id);
    return backup ? [{ backup, reasons }] : [];
  });
}

/** On a SUCCEEDED Backup: deleting it forgets its restic snapshots first (then the finalizer goes). */
export const BACKUP_SNAPSHOTS_FINALIZER = 'pressluft.io/backup-snapshots';

/**
 * What the snapshots finalizer's controller does with a Backup: add the finalizer to a SUCCEEDED
 * one with snapshots, forget the snapshots of one being deleted that has it, else nothing.
 */
export function snapshotsFinalizerStep(backup: Pick<Backup, 'metadata' | 'status'>): 'add' | 'forget' | 'none' {
  const has = backup.metadata.finalizers.includes(BACKUP_SNAPSHOTS_FINALIZER);
  if (backup.metadata.deletionTimestamp) return has ? 'forget' : 'none';
  return !has && backup.status.phase === 'SUCCEEDED' && snapshotIds(backup).length > 0 ? 'add' : 'none';
}
