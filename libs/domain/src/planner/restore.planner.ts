import type { BackupSpec, BackupStatus, RestoreSpec, RestoreStatus, RunPhase } from '../backup.js';
import { TERMINAL_COMMAND_STATES } from '../command.js';
import type { Resource } from '../resource.js';
import { siteNotIdle, type RunCommandView, type RunSiteView } from './backup.planner.js';
import { derivedName } from '../derived-names.js';

export interface RestoreObservation {
  readonly restore: Resource<RestoreSpec, RestoreStatus>;
  /** The Backup spec.backup names (undefined: there is none). */
  readonly backup: Resource<BackupSpec, BackupStatus> | undefined;
  /** The target site (restoreTarget), undefined when there is none. */
  readonly site: RunSiteView | undefined;
  /** The pre-restore Backup this Restore asked for, if any. */
  readonly preRestoreBackup: { readonly name: string; readonly phase: RunPhase } | undefined;
  /** The RestoreSite command status.command names, once RUNNING. */
  readonly command: RunCommandView | undefined;
}

/**
 * The one next step for a Restore. `createSite`: the target does not exist (a deleted site, or a
 * copy under a new name): create it from the backup's site spec. `createPreRestoreBackup`: a
 * Backup of the existing target first. `issue`: RestoreSite (site RESTORING, fenced). `wait`:
 * stays PENDING with the message. `succeed`/`fail`: the end.
 */
export type RestoreAction =
  | { type: 'none' }
  | { type: 'wait'; reason: string; message: string }
  | { type: 'createSite'; site: string }
  | { type: 'createPreRestoreBackup'; site: string }
  | { type: 'issue'; site: string; skippedPreRestoreBackup: boolean }
  | { type: 'succeed' }
  | { type: 'fail'; reason: string; message: string };

/** The site a Restore restores into: the one it resolved, else spec.site, else the backup's site. */
export function restoreTarget(restore: Pick<Resource<RestoreSpec, RestoreStatus>, 'spec' | 'status'>, backup: Pick<Resource<BackupSpec, BackupStatus>, 'spec'> | undefined): string | undefined {
  return restore.status.site ?? restore.spec.site ?? backup?.spec.site;
}

/** The pre-restore Backup's name: one per Restore. */
export function preRestoreBackupName(restore: string): string {
  return derivedName(restore, 'pre-restore');
}

const fail = (reason: string, message: string): RestoreAction => ({ type: 'fail', reason, message });
const wait = (reason: string, message: string): RestoreAction => ({ type: 'wait', reason, message });

export function planRestore(observed: RestoreObservation): RestoreAction {
  const { restore, backup, site } = observed;
  const name = restore.metadata.name;
  if (restore.status.phase === 'SUCCEEDED' || restore.status.phase === 'FAILED') return { type: 'none' };
  if (restore.status.phase === 'RUNNING') return planRunning(observed);

  if (!backup) return fail('BackupNotFound', `Restore ${name}: backup ${restore.spec.backup} does not exist`);
  if (backup.status.phase !== 'SUCCEEDED' || !backup.status.snapshots || !backup.status.store) {
    return fail('BackupNotSucceeded', `Restore ${name}: backup ${backup.metadata.name} is ${backup.status.phase}; only a SUCCEEDED backup can be restored`);
  }
  const target = restoreTarget(restore, backup);
  if (!target) return fail('NoTarget', `Restore ${name}: no site to restore into`);
  if (!site) {
    // A site this Restore created and that is gone again: someone deleted it; do not make another.
    if (restore.status.createdSite) return fail('SiteNotFound', `Restore ${name}: site ${target}, created for the restore, is gone`);
    if (restore.spec.parts && !restore.spec.parts.includes('code')) {
      return fail('PartsNeedCode', `Restore ${name}: site ${target} does not exist, and a site the restore creates needs its code (spec.parts has no code)`);
    }
    if (!backup.status.siteSpec) return fail('NoSiteSpec', `Restore ${name}: backup ${backup.metadata.name} does not record its site's spec; site ${target} cannot be created from it`);
    return { type: 'createSite', site: target };
  }
  if (site.deleting) return fail('SiteDeleting', `Restore ${name}: site ${target} is being deleted`);

  if (restore.status.createdSite) {
    // The new site is empty: no pre-restore backup; it must first be provisioned.
    if (site.phase === 'FAILED') return fail('SiteProvisionFailed', `Restore ${name}: site ${target}, created for the restore, FAILED to provision`);
  } else if (!restore.spec.skipPreRestoreBackup) {
    const pre = observed.preRestoreBackup;
    if (!pre) return { type: 'createPreRestoreBackup', site: target };
    if (pre.phase === 'FAILED') {
      return fail('PreRestoreBackupFailed', `Restore ${name}: the pre-restore backup ${pre.name} FAILED; site ${target} was not touched`);
    }
    if (pre.phase !== 'SUCCEEDED') return wait('BackingUp', `Restore ${name}: waiting for the pre-restore backup ${pre.name} (${pre.phase})`);
  }
  const why = siteNotIdle(site, ['ACTIVE']);
  if (why) return wait('SiteBusy', `Restore ${name}: waiting: ${why}`);
  return { type: 'issue', site: target, skippedPreRestoreBackup: !restore.status.createdSite && restore.spec.skipPreRestoreBackup };
}

function planRunning(observed: RestoreObservation): RestoreAction {
  const { restore, command } = observed;
  const name = restore.metadata.name;
  if (!command) return fail('CommandNotFound', `Restore ${name}: its command ${restore.status.command ?? '(none)'} is gone`);
  if (!TERMINAL_COMMAND_STATES.includes(command.state)) return { type: 'none' };
  if (command.state === 'SUCCEEDED') return { type: 'succeed' };
  const how = command.state === 'REJECTED' ? 'was rejected by the node' : 'failed';
  return fail(
    command.reason && command.reason !== 'StepFailed' ? command.reason : 'RestoreFailed',
    `Restore ${name}: ${command.name} ${how}; the site serves what it served before${command.message ? `: ${command.message.slice(0, 512)}` : ''}`,
  );
}
