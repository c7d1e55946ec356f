import { describe, expect, it } from 'vitest';
import { contentSyncSpecSchema, contentSyncStatusSchema, type ContentSyncSpec, type ContentSyncStatus } from '../environments.js';
import type { Resource } from '../resource.js';
import { planContentSync, syncSourceBackupName, type ContentSyncAction, type ContentSyncObservation } from './content-sync.planner.js';

const sync = (status: Partial<ContentSyncStatus> = {}, spec: Partial<ContentSyncSpec> = {}): Resource<ContentSyncSpec, ContentSyncStatus> => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'ContentSync',
  metadata: { name: 'down', uid: 's0000000-0000-4000-8000-000000000001', generation: 1, resourceVersion: '5', labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-12-01T00:00:00Z' },
  spec: contentSyncSpecSchema.parse({ from: 'shop', to: 'shop-staging', ...spec }),
  status: contentSyncStatusSchema.parse(status),
});

type Source = NonNullable<ContentSyncObservation['sourceBackup']>;
type Restore = NonNullable<ContentSyncObservation['restore']>;
const source = (more: Partial<Source> = {}): Source => ({ name: 'down-source', ours: true, phase: 'SUCCEEDED', bytes: 2048, files: 7, ...more });
const restore = (more: Partial<Restore> = {}): Restore => ({ name: 'down', ours: true, phase: 'PENDING', ...more });

interface World {
  status?: Partial<ContentSyncStatus>;
  spec?: Partial<ContentSyncSpec>;
  sourceExists?: boolean;
  targetExists?: boolean;
  source?: Source;
  restore?: Restore;
}

const RECORDED: Partial<ContentSyncStatus> = { sourceBackup: 'down-source', restore: 'down' };

const scenarios: Array<[string, World, Partial<ContentSyncAction> & Record<string, unknown>]> = [
  // the source backup
  ['new: a backup of the source first', {}, { type: 'createSourceBackup', site: 'shop', backup: 'down-source' }],
  ['a crash after creating the backup, before recording it: found by name, not created again', { source: source({ phase: 'PENDING' }) }, { type: 'update', status: { sourceBackup: 'down-source', message: 'ContentSync down: waiting for the backup down-source of site shop (PENDING)' } }],
  ['the source backup runs, already said so: nothing', { status: { sourceBackup: 'down-source', message: 'ContentSync down: waiting for the backup down-source of site shop (RUNNING)' }, source: source({ phase: 'RUNNING' }) }, { type: 'none' }],
  ['the source backup FAILED: FAILED, the target untouched', { source: source({ phase: 'FAILED', message: 'restic failed' }) }, { type: 'fail', reason: 'SourceBackupFailed', message: 'ContentSync down: the backup down-source of site shop FAILED; site shop-staging was not touched: restic failed' }],
  ['a Backup of that name not made by the sync: FAILED', { source: source({ ours: false }) }, { type: 'fail', reason: 'NameTaken' }],
  ['the recorded source backup deleted: FAILED, not made again', { status: { sourceBackup: 'down-source' } }, { type: 'fail', reason: 'SourceBackupGone' }],
  ['the source site gone before it started: FAILED', { sourceExists: false }, { type: 'fail', reason: 'SourceNotFound' }],
  ['the target site gone before it started: FAILED', { targetExists: false }, { type: 'fail', reason: 'TargetNotFound' }],
  // the restore
  ['the source backup SUCCEEDED: the Restore of it into the target', { source: source() }, { type: 'createRestore', site: 'shop-staging', backup: 'down-source', restore: 'down' }],
  ['the target gone once the backup is done: FAILED, no Restore (it would create the site)', { source: source(), targetExists: false }, { type: 'fail', reason: 'TargetNotFound' }],
  ['a Restore of that name not made by the sync: FAILED', { source: source(), restore: restore({ ours: false }) }, { type: 'fail', reason: 'NameTaken' }],
  ['the recorded Restore deleted: FAILED, not made again', { status: RECORDED, source: source() }, { type: 'fail', reason: 'RestoreGone' }],
  // mirroring the restore
  ['a crash after creating the Restore: found, recorded, mirrored', { source: source(), restore: restore({ message: 'Restore down: waiting for the pre-restore backup down-pre-restore (RUNNING)', preRestoreBackup: 'down-pre-restore' }) }, {
    type: 'update',
    status: { ...RECORDED, phase: 'PENDING', preSyncBackup: 'down-pre-restore', message: 'Restore down: waiting for the pre-restore backup down-pre-restore (RUNNING)' },
  }],
  ['the Restore RUNNING: phase and command mirrored', { status: RECORDED, source: source(), restore: restore({ phase: 'RUNNING', command: 'shop-staging-4', preRestoreBackup: 'down-pre-restore' }) }, {
    type: 'update',
    status: { ...RECORDED, phase: 'RUNNING', command: 'shop-staging-4', preSyncBackup: 'down-pre-restore', message: 'ContentSync down: Restore down into site shop-staging is RUNNING' },
  }],
  ['the Restore RUNNING, mirrored already: nothing', {
    status: { ...RECORDED, phase: 'RUNNING', command: 'shop-staging-4', preSyncBackup: 'down-pre-restore', message: 'ContentSync down: Restore down into site shop-staging is RUNNING' },
    source: source(),
    restore: restore({ phase: 'RUNNING', command: 'shop-staging-4', preRestoreBackup: 'down-pre-restore' }),
  }, { type: 'none' }],
  ['the Restore SUCCEEDED: SUCCEEDED with what moved and the source backup\'s size', { status: RECORDED, source: source(), restore: restore({ phase: 'SUCCEEDED' }) }, {
    type: 'succeed',
    moved: { parts: ['database', 'uploads'], bytes: 2048, files: 7 },
    message: 'ContentSync down: database and uploads of site shop moved into site shop-staging',
  }],
  ['only the database: moved says so', { status: RECORDED, spec: { parts: ['database'] }, source: source(), restore: restore({ phase: 'SUCCEEDED' }) }, { type: 'succeed', moved: { parts: ['database'], bytes: 2048, files: 7 } }],
  ['the Restore SUCCEEDED, its source backup pruned meanwhile: SUCCEEDED, no size', { status: RECORDED, restore: restore({ phase: 'SUCCEEDED' }) }, { type: 'succeed', moved: { parts: ['database', 'uploads'] } }],
  ['the Restore FAILED: FAILED with its words', { status: RECORDED, source: source(), restore: restore({ phase: 'FAILED', message: 'Restore down: shop-staging-4 failed; the site serves what it served before' }) }, {
    type: 'fail',
    reason: 'RestoreFailed',
    message: 'ContentSync down: the restore into site shop-staging FAILED: Restore down: shop-staging-4 failed; the site serves what it served before',
  }],
  // terminal
  ['SUCCEEDED is final', { status: { phase: 'SUCCEEDED' } }, { type: 'none' }],
  ['FAILED is final', { status: { phase: 'FAILED' }, sourceExists: false }, { type: 'none' }],
];

describe('planContentSync', () => {
  it.each(scenarios)('%s', (_, world, expected) => {
    const observed: ContentSyncObservation = {
      sync: sync(world.status, world.spec),
      sourceExists: world.sourceExists ?? true,
      targetExists: world.targetExists ?? true,
      sourceBackup: world.source,
      restore: world.restore,
    };
    const action = planContentSync(observed);
    expect(action).toMatchObject(expected);
    if (action.type === 'update') expect(action.status).toEqual(expected['status']);
    expect(planContentSync(observed)).toEqual(action);
  });

  it('names the source backup after the sync, within 63 characters', () => {
    expect(syncSourceBackupName('down')).toBe('down-source');
    expect(syncSourceBackupName('x'.repeat(60)).length).toBeLessThanOrEqual(63);
  });
});
