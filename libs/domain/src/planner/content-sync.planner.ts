import type { RunPhase } from '../backup.js';
import type { ContentSyncSpec, ContentSyncStatus } from '../environments.js';
import type { Resource } from '../resource.js';
import { derivedName } from '../derived-names.js';

/** Label on the Backup and the Restore a ContentSync made: they are found by it again after a restart. */
export const CONTENT_SYNC_LABEL = 'pressluft.io/contentsync';

/** The Backup of the source a ContentSync takes: one per sync. */
export function syncSourceBackupName(sync: string): string {
  return derivedName(sync, 'source');
}

/** A child (Backup or Restore) of the sync's name: `ours` when it carries the sync's label. */
export interface SyncChildView {
  readonly name: string;
  readonly ours: boolean;
  readonly phase: RunPhase;
  readonly message?: string;
  readonly command?: string;
}

export interface ContentSyncObservation {
  readonly sync: Resource<ContentSyncSpec, ContentSyncStatus>;
  readonly sourceExists: boolean;
  readonly targetExists: boolean;
  /** The Backup `<sync>-source`, with its size once SUCCEEDED. */
  readonly sourceBackup: (SyncChildView & { readonly bytes?: number; readonly files?: number }) | undefined;
  /** The Restore `<sync>`, with the pre-restore backup it took of the target. */
  readonly restore: (SyncChildView & { readonly preRestoreBackup?: string }) | undefined;
}

/**
 * The one next step for a ContentSync, composed from the existing runs like a Deployment from
 * ReplicaSets. `createSourceBackup`: a Backup of the source (reason sync-source).
 * `createRestore`: the Restore of that backup's parts into the target (the Restore takes the
 * target's pre-restore backup and locks it). `update`: the status as it should be now (waiting,
 * or mirroring the Restore). `succeed`/`fail`: the end. Idempotent: the children are found by
 * name and label, never by what the status recorded, so a crash between creating a child and
 * recording it creates nothing twice.
 */
export type ContentSyncAction =
  | { type: 'none' }
  | { type: 'createSourceBackup'; site: string; backup: string }
  | { type: 'createRestore'; site: string; backup: string; restore: string }
  | { type: 'update'; status: Partial<ContentSyncStatus> }
  | { type: 'succeed'; message: string; moved: NonNullable<ContentSyncStatus['moved']> }
  | { type: 'fail'; reason: string; message: string };

const fail = (reason: string, message: string): ContentSyncAction => ({ type: 'fail', reason, message });

export function planContentSync(observed: ContentSyncObservation): ContentSyncAction {
  const { sync, sourceBackup, restore } = observed;
  const { name } = sync.metadata;
  const { from, to } = sync.spec;
  if (sync.status.phase === 'SUCCEEDED' || sync.status.phase === 'FAILED') return { type: 'none' };
  const backupName = syncSourceBackupName(name);
  if (restore?.ours) return followRestore(sync, restore, sourceBackup, backupName);

  if (!sourceBackup?.ours) {
    if (sourceBackup) return fail('NameTaken', `ContentSync ${name}: Backup ${backupName} exists and is not this sync's`);
    if (sync.status.sourceBackup) return fail('SourceBackupGone', `ContentSync ${name}: the source backup ${backupName} is gone; site ${to} was not touched`);
    if (!observed.sourceExists) return fail('SourceNotFound', `ContentSync ${name}: site ${from} does not exist`);
    if (!observed.targetExists) return fail('TargetNotFound', `ContentSync ${name}: site ${to} does not exist`);
    return { type: 'createSourceBackup', site: from, backup: backupName };
  }
  if (sourceBackup.phase === 'FAILED') {
    return fail('SourceBackupFailed', `ContentSync ${name}: the backup ${backupName} of site ${from} FAILED; site ${to} was not touched${sourceBackup.message ? `: ${sourceBackup.message.slice(0, 512)}` : ''}`);
  }
  if (sourceBackup.phase !== 'SUCCEEDED') {
    return update(sync.status, { sourceBackup: backupName, message: `ContentSync ${name}: waiting for the backup ${backupName} of site ${from} (${sourceBackup.phase})` });
  }
  if (restore) return fail('NameTaken', `ContentSync ${name}: Restore ${name} exists and is not this sync's`);
  if (sync.status.restore) return fail('RestoreGone', `ContentSync ${name}: its Restore ${name} is gone`);
  if (!observed.targetExists) return fail('TargetNotFound', `ContentSync ${name}: site ${to} does not exist`);
  return { type: 'createRestore', site: to, backup: backupName, restore: name };
}

/** Once the Restore exists, the sync mirrors it: its phase, message, command and the target's pre-restore backup. */
function followRestore(sync: ContentSyncObservation['sync'], restore: NonNullable<ContentSyncObservation['restore']>, sourceBackup: ContentSyncObservation['sourceBackup'], backupName: string): ContentSyncAction {
  const { name } = sync.metadata;
  const { from, to, parts } = sync.spec;
  if (restore.phase === 'FAILED') {
    return fail('RestoreFailed', `ContentSync ${name}: the restore into site ${to} FAILED${restore.message ? `: ${restore.message.slice(0, 768)}` : ''}`);
  }
  if (restore.phase === 'SUCCEEDED') {
    const size = sourceBackup?.ours ? { ...(sourceBackup.bytes !== undefined ? { bytes: sourceBackup.bytes } : {}), ...(sourceBackup.files !== undefined ? { files: sourceBackup.files } : {}) } : {};
    return { type: 'succeed', moved: { parts, ...size }, message: `ContentSync ${name}: ${parts.join(' and ')} of site ${from} moved into site ${to}` };
  }
  return update(sync.status, {
    sourceBackup: backupName,
    restore: name,
    phase: restore.phase,
    ...(restore.preRestoreBackup ? { preSyncBackup: restore.preRestoreBackup } : {}),
    ...(restore.command ? { command: restore.command } : {}),
    message: restore.message ?? `ContentSync ${name}: Restore ${name} into site ${to} is ${restore.phase}`,
  });
}

/** The change when `status` lacks any of `wanted`, else nothing. */
function update(status: ContentSyncStatus, wanted: Partial<ContentSyncStatus>): ContentSyncAction {
  const current = status as Record<string, unknown>;
  const changed = Object.entries(wanted).some(([key, value]) => current[key] !== value);
  return changed ? { type: 'update', status: wanted } : { type: 'none' };
}
