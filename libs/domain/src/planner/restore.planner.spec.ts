import { describe, expect, it } from 'vitest';
import {
  backupSpecSchema,
  backupStatusSchema,
  restoreSpecSchema,
  restoreStatusSchema,
  type BackupSpec,
  type BackupStatus,
  type RestoreSpec,
  type RestoreStatus,
  type RunPhase,
} from '../backup.js';
import type { Resource } from '../resource.js';
import type { RunCommandView, RunSiteView } from './backup.planner.js';
import { planRestore, preRestoreBackupName, restoreTarget, type RestoreAction } from './restore.planner.js';

const meta = (name: string) => ({ name, uid: 'r0000000-0000-4000-8000-000000000001', generation: 1, resourceVersion: '5', labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-12-01T00:00:00Z' });

const restore = (spec: Partial<RestoreSpec> = {}, status: Partial<RestoreStatus> = {}): Resource<RestoreSpec, RestoreStatus> => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Restore',
  metadata: meta('back'),
  spec: restoreSpecSchema.parse({ backup: 'shop-1', ...spec }),
  status: restoreStatusSchema.parse(status),
});

const SUCCEEDED: Partial<BackupStatus> = { phase: 'SUCCEEDED', store: 'default', snapshots: { database: 'aaaaaaaa', files: 'bbbbbbbb' }, siteSpec: { domains: ['shop.example.test'] } };
const backup = (status: Partial<BackupStatus> = SUCCEEDED): Resource<BackupSpec, BackupStatus> => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Backup',
  metadata: meta('shop-1'),
  spec: backupSpecSchema.parse({ site: 'shop' }),
  status: backupStatusSchema.parse(status),
});

const IDLE: RunSiteView = { name: 'shop', phase: 'ACTIVE', bound: true, deleting: false, busy: false };
const pre = (phase: RunPhase) => ({ name: 'back-pre-restore', phase });
const command = (more: Partial<RunCommandView> = {}): RunCommandView => ({ name: 'shop-4', state: 'RUNNING', ...more });
const RUNNING: Partial<RestoreStatus> = { phase: 'RUNNING', site: 'shop', command: 'shop-4' };

interface World {
  spec?: Partial<RestoreSpec>;
  status?: Partial<RestoreStatus>;
  backup?: Resource<BackupSpec, BackupStatus> | null;
  site?: RunSiteView | null;
  pre?: { name: string; phase: RunPhase };
  command?: RunCommandView;
}

const scenarios: Array<[string, World, Partial<RestoreAction>]> = [
  // the backup
  ['a missing backup: FAILED', { backup: null }, { type: 'fail', reason: 'BackupNotFound' }],
  ['a backup not SUCCEEDED: FAILED', { backup: backup({ phase: 'FAILED' }) }, { type: 'fail', reason: 'BackupNotSucceeded' }],
  // an existing target
  ['an existing site: a pre-restore backup first', {}, { type: 'createPreRestoreBackup', site: 'shop' }],
  ['the pre-restore backup runs: wait', { pre: pre('RUNNING') }, { type: 'wait', reason: 'BackingUp' }],
  ['the pre-restore backup FAILED: FAILED, nothing touched', { pre: pre('FAILED') }, { type: 'fail', reason: 'PreRestoreBackupFailed', message: 'Restore back: the pre-restore backup back-pre-restore FAILED; site shop was not touched' }],
  ['the pre-restore backup SUCCEEDED: RestoreSite', { pre: pre('SUCCEEDED') }, { type: 'issue', site: 'shop', skippedPreRestoreBackup: false }],
  ['skipped: RestoreSite at once, said so', { spec: { skipPreRestoreBackup: true } }, { type: 'issue', site: 'shop', skippedPreRestoreBackup: true }],
  ['a busy site: wait', { pre: pre('SUCCEEDED'), site: { ...IDLE, busy: true } }, { type: 'wait', reason: 'SiteBusy' }],
  ['a FAILED site is not restored into (RESTORING follows ACTIVE only)', { pre: pre('SUCCEEDED'), site: { ...IDLE, phase: 'FAILED' } }, { type: 'wait', reason: 'SiteBusy' }],
  ['a site being deleted: FAILED', { site: { ...IDLE, deleting: true } }, { type: 'fail', reason: 'SiteDeleting' }],
  ['into another existing site (spec.site)', { spec: { site: 'copy' }, site: { ...IDLE, name: 'copy' } }, { type: 'createPreRestoreBackup', site: 'copy' }],
  // a missing target
  ['a deleted site: created from the backup', { site: null }, { type: 'createSite', site: 'shop' }],
  ['a copy under a new name: created', { spec: { site: 'shop-copy', domains: ['copy.example.test'] }, site: null }, { type: 'createSite', site: 'shop-copy' }],
  ['a created site provisioning: wait (no pre-restore backup)', { status: { site: 'shop', createdSite: true }, site: { ...IDLE, phase: 'PROVISIONING', busy: true } }, { type: 'wait', reason: 'SiteBusy' }],
  ['a created site ACTIVE: RestoreSite, no pre-restore backup', { status: { site: 'shop', createdSite: true } }, { type: 'issue', site: 'shop', skippedPreRestoreBackup: false }],
  ['a created site that FAILED to provision: FAILED', { status: { site: 'shop', createdSite: true }, site: { ...IDLE, phase: 'FAILED' } }, { type: 'fail', reason: 'SiteProvisionFailed' }],
  ['a created site deleted again: FAILED, not created twice', { status: { site: 'shop', createdSite: true }, site: null }, { type: 'fail', reason: 'SiteNotFound' }],
  ['parts without code never create a site (it would have no code): FAILED', { spec: { parts: ['database', 'uploads'] }, site: null }, { type: 'fail', reason: 'PartsNeedCode' }],
  ['parts without code into an existing site: the pre-restore backup first', { spec: { parts: ['database'] } }, { type: 'createPreRestoreBackup', site: 'shop' }],
  ['a backup without a site spec cannot create the site', { backup: backup({ ...SUCCEEDED, siteSpec: undefined }), site: null }, { type: 'fail', reason: 'NoSiteSpec' }],
  // running
  ['running: nothing', { status: RUNNING, command: command() }, { type: 'none' }],
  ['RestoreSite succeeded: SUCCEEDED', { status: RUNNING, command: command({ state: 'SUCCEEDED' }) }, { type: 'succeed' }],
  ['RestoreSite failed: FAILED, the site serves what it did', { status: RUNNING, command: command({ state: 'FAILED', reason: 'HealthCheckFailed', message: 'GET / answered 500' }) }, { type: 'fail', reason: 'HealthCheckFailed', message: 'Restore back: shop-4 failed; the site serves what it served before: GET / answered 500' }],
  ['RestoreSite rejected: FAILED', { status: RUNNING, command: command({ state: 'REJECTED' }) }, { type: 'fail', reason: 'RestoreFailed' }],
  ['RestoreSite stalled: waits (destructive: never retried)', { status: RUNNING, command: command({ state: 'STALLED' }) }, { type: 'none' }],
  ['its command gone: FAILED', { status: RUNNING }, { type: 'fail', reason: 'CommandNotFound' }],
  // terminal
  ['SUCCEEDED is final', { status: { phase: 'SUCCEEDED' } }, { type: 'none' }],
  ['FAILED is final', { status: { phase: 'FAILED' }, backup: null }, { type: 'none' }],
];

describe('planRestore', () => {
  it.each(scenarios)('%s', (_, world, expected) => {
    const observed = {
      restore: restore(world.spec, world.status),
      backup: world.backup === null ? undefined : (world.backup ?? backup()),
      site: world.site === null ? undefined : (world.site ?? IDLE),
      preRestoreBackup: world.pre,
      command: world.command,
    };
    const action = planRestore(observed);
    expect(action).toMatchObject(expected);
    expect(planRestore(observed)).toEqual(action);
  });

  it.each([
    ['the resolved target first', { site: 'b' }, { site: 'a' }, 'b'],
    ['then spec.site', {}, { site: 'a' }, 'a'],
    ['then the backup site', {}, {}, 'shop'],
  ] as const)('restoreTarget: %s', (_, status, spec, expected) => {
    expect(restoreTarget(restore(spec, status), backup())).toBe(expected);
  });

  it('names the pre-restore backup after the restore, within 63 characters', () => {
    expect(preRestoreBackupName('back')).toBe('back-pre-restore');
    expect(preRestoreBackupName('x'.repeat(60)).length).toBeLessThanOrEqual(63);
  });
});
