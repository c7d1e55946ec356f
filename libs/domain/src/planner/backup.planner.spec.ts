import { describe, expect, it } from 'vitest';
import { backupSpecSchema, backupStatusSchema, type BackupSpec, type BackupStatus } from '../backup.js';
import type { BackupResult } from '../command.js';
import type { Resource } from '../resource.js';
import { planBackup, type BackupAction, type RunCommandView, type RunSiteView } from './backup.planner.js';

const backup = (status: Partial<BackupStatus> = {}): Resource<BackupSpec, BackupStatus> => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Backup',
  metadata: { name: 'shop-1', uid: 'b0000000-0000-4000-8000-000000000001', generation: 1, resourceVersion: '5', labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-12-01T00:00:00Z' },
  spec: backupSpecSchema.parse({ site: 'shop' }),
  status: backupStatusSchema.parse(status),
});

const IDLE: RunSiteView = { name: 'shop', phase: 'ACTIVE', bound: true, deleting: false, busy: false };
const RESULT: BackupResult = { snapshots: { database: 'aaaaaaaa', files: 'bbbbbbbb' }, bytesAdded: 10, bytesTotal: 100, files: 3, durationSeconds: 2 };
const RUNNING = { phase: 'RUNNING', command: 'shop-3' } as const;
const command = (more: Partial<RunCommandView> = {}): RunCommandView => ({ name: 'shop-3', state: 'RUNNING', ...more });

const scenarios: Array<[string, Partial<BackupStatus>, RunSiteView | undefined, RunCommandView | undefined, Partial<BackupAction>]> = [
  // PENDING
  ['an idle ACTIVE site: start', {}, IDLE, undefined, { type: 'start' }],
  ['an idle FAILED site: start (its data may be worth keeping)', {}, { ...IDLE, phase: 'FAILED' }, undefined, { type: 'start' }],
  ['a site being deleted (the pre-delete backup): start', {}, { ...IDLE, deleting: true }, undefined, { type: 'start' }],
  ['a deploying site: wait', {}, { ...IDLE, phase: 'DEPLOYING', busy: true }, undefined, { type: 'wait', reason: 'SiteBusy' }],
  ['a command in flight beside the phase: wait', {}, { ...IDLE, busy: true, busyWith: 'CheckDrift (shop-2) is RUNNING' }, undefined, { type: 'wait', reason: 'SiteBusy', message: 'Backup shop-1: waiting: site shop is busy: CheckDrift (shop-2) is RUNNING' }],
  ['a site not on a node yet: wait', {}, { ...IDLE, phase: 'PENDING', bound: false }, undefined, { type: 'wait', reason: 'SiteBusy' }],
  ['a PROVISIONING site: wait', {}, { ...IDLE, phase: 'PROVISIONING' }, undefined, { type: 'wait', reason: 'SiteBusy' }],
  ['no site: FAILED', {}, undefined, undefined, { type: 'fail', reason: 'SiteNotFound' }],
  // RUNNING
  ['running without progress: nothing', RUNNING, IDLE, command(), { type: 'none' }],
  ['new progress: mirrored', RUNNING, IDLE, command({ progress: { step: 'files', percent: 40, bytes: 5 } }), { type: 'progress', progress: { step: 'files', percent: 40, bytes: 5 } }],
  ['the same progress: nothing', { ...RUNNING, progress: { step: 'files', percent: 40 } }, IDLE, command({ progress: { step: 'files', percent: 40 } }), { type: 'none' }],
  ['succeeded with a result: SUCCEEDED with it', RUNNING, IDLE, command({ state: 'SUCCEEDED', backup: RESULT }), { type: 'succeed', result: RESULT }],
  ['succeeded without a result: FAILED (nothing is recorded as stored)', RUNNING, IDLE, command({ state: 'SUCCEEDED' }), { type: 'fail', reason: 'NoBackupResult' }],
  ['failed: FAILED with the node reason', RUNNING, IDLE, command({ state: 'FAILED', reason: 'DatabaseDumpFailed', message: 'mariadb-dump exited with code 2' }), { type: 'fail', reason: 'DatabaseDumpFailed', message: 'Backup shop-1: shop-3 failed: mariadb-dump exited with code 2' }],
  ['failed with the generic StepFailed: BackupFailed', RUNNING, IDLE, command({ state: 'FAILED', reason: 'StepFailed' }), { type: 'fail', reason: 'BackupFailed' }],
  ['rejected: FAILED', RUNNING, IDLE, command({ state: 'REJECTED', reason: 'StaleFence' }), { type: 'fail', reason: 'StaleFence' }],
  ['stalled: waits (an operator decides)', RUNNING, IDLE, command({ state: 'STALLED' }), { type: 'none' }],
  ['the command is gone: FAILED', RUNNING, IDLE, undefined, { type: 'fail', reason: 'CommandNotFound' }],
  ['the site gone meanwhile does not matter to a running backup', RUNNING, undefined, command({ state: 'SUCCEEDED', backup: RESULT }), { type: 'succeed' }],
  // terminal
  ['SUCCEEDED is final', { phase: 'SUCCEEDED' }, IDLE, undefined, { type: 'none' }],
  ['FAILED is final', { phase: 'FAILED' }, undefined, undefined, { type: 'none' }],
];

describe('planBackup', () => {
  it.each(scenarios)('%s', (_, status, site, cmd, expected) => {
    const observed = { backup: backup(status), site, command: cmd };
    const action = planBackup(observed);
    expect(action).toMatchObject(expected);
    expect(planBackup(observed)).toEqual(action);
  });
});
