import { type TestAgent, until, V1 } from '@pressluft/e2e-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { resourceApi, siteManifest, startEngineWithAgent } from '../../test/resource-api.js';


const backupManifest = (name: string, site: string, more: Record<string, unknown> = {}) => ({ apiVersion: 'pressluft.io/v1', kind: 'Backup', metadata: { name }, spec: { site, ...more } });
const restoreManifest = (name: string, backup: string, more: Record<string, unknown> = {}) => ({ apiVersion: 'pressluft.io/v1', kind: 'Restore', metadata: { name }, spec: { backup, ...more } });

describe('backups and restores with a test agent on the real NATS server', () => {
  let fx: ControlPlaneFixture;
  let agent: TestAgent;
  const { call, get, events, phaseOf, create } = resourceApi(() => fx);
  const hostCalls = (site: string) => agent.hostCalls.filter((c) => c.site === site).map((c) => c.operation);
  const activeSite = async (name: string) => {
    await create('sites', siteManifest(name));
    return phaseOf('sites', name, 'ACTIVE');
  };

  beforeAll(async () => {
    ({ fx, agent } = await startEngineWithAgent());
  });

  afterAll(async () => {
    await agent?.stop();
    await fx?.stop();
  });

  it('runs a manual Backup beside the ACTIVE site and copies the result into its status', async () => {
    const site = await activeSite('bk-a');
    await create('backups', backupManifest('bk-a-1', 'bk-a'));
    const done = await phaseOf('backups', 'bk-a-1', 'SUCCEEDED');
    expect(done.metadata.labels).toMatchObject({ 'pressluft.io/site': 'bk-a', 'pressluft.io/site-uid': site.metadata.uid });
    expect(done.status).toMatchObject({ command: 'bk-a-2', store: 'local', siteUid: site.metadata.uid, bytesAdded: 1024, bytesTotal: 4096, files: 3, wordpressVersion: '6.4.2' });
    expect(done.status['snapshots']).toMatchObject({ database: expect.stringMatching(/^[0-9a-f]{8}$/), files: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect((done.status['siteSpec'] as { domains: string[] }).domains).toEqual(['bk-a.example.test']);
    const command = (await get('commands', 'bk-a-2'))!;
    expect(command.spec).toMatchObject({ operation: 'BackupSite', backup: 'bk-a-1', store: 'local' });
    expect(agent.hostCalls.find((c) => c.backup === 'bk-a-1')).toMatchObject({ operation: 'backup', repository: '/nonexistent/restic/local' });
    // Beside the phase: the site never left ACTIVE, and is not shown as still working on it.
    const after = await until('bk-a settled', async () => {
      const s = await get('sites', 'bk-a');
      return s?.status.conditions?.find((c) => c.type === 'Reconciling')?.status === 'False' ? s : undefined;
    });
    expect(after.status.phase).toBe('ACTIVE');
    expect(after.status.conditions?.find((c) => c.type === 'Reconciling')?.reason).toBe('Converged');
    expect((await events('backups/bk-a-1')).map((e) => e.reason)).toEqual(expect.arrayContaining(['Started', 'BackedUp']));
    expect((await events('sites/bk-a')).map((e) => e.reason)).toContain('BackedUp');
  });

  it('refuses a Backup of a missing site or store (422), and a change of its spec but retain (422)', async () => {
    const missing = await call(`${V1}/backups`, { method: 'POST', body: backupManifest('bk-none', 'no-such-site') });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('spec.site');
    const noStore = await call(`${V1}/backups`, { method: 'POST', body: backupManifest('bk-nostore', 'bk-a', { store: 'no-such-store' }) });
    expect(noStore.status).toBe(422);
    expect(noStore.text).toContain('spec.store');
    const patch = (body: Record<string, unknown>) => call(`${V1}/backups/bk-a-1`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: body } });
    expect((await patch({ reason: 'scheduled' })).status).toBe(422);
    expect((await patch({ retain: true })).status).toBe(200);
  });

  it('keeps a Backup PENDING while its site deploys and runs it once the site is ACTIVE', async () => {
    await activeSite('bk-b');
    agent.behaviour = 'hang';
    await call(`${V1}/sites/bk-b`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'B two' } } } });
    await phaseOf('sites', 'bk-b', 'DEPLOYING');
    await create('backups', backupManifest('bk-b-1', 'bk-b'));
    const waiting = await until('bk-b-1 waiting', async () => {
      const b = await get('backups', 'bk-b-1');
      return b?.status.message?.includes('waiting') ? b : undefined;
    });
    expect(waiting.status.phase).toBe('PENDING');
    expect(hostCalls('bk-b')).not.toContain('backup');
    agent.finishHanging();
    await phaseOf('backups', 'bk-b-1', 'SUCCEEDED');
    expect(agent.received.filter((r) => r.command.ref?.site === 'bk-b').map((r) => r.command.payload?.$case)).toEqual(['provisionSite', 'deploySite', 'backupSite']);
  });

  it('shows the command\'s progress on the RUNNING Backup, and drops it once done', async () => {
    agent.behaviour = 'hang';
    await create('backups', backupManifest('bk-b-2', 'bk-b'));
    const running = await until('bk-b-2 progress', async () => {
      const b = await get('backups', 'bk-b-2');
      return b?.status['progress'] ? b : undefined;
    });
    expect(running.status.phase).toBe('RUNNING');
    expect(running.status['progress']).toEqual({ step: 'converge', percent: 50 });
    agent.finishHanging();
    const done = await phaseOf('backups', 'bk-b-2', 'SUCCEEDED');
    expect(done.status['progress']).toBeUndefined();
  });

  it('marks a Backup the node fails FAILED, with a Warning; the site stays ACTIVE', async () => {
    agent.behaviour = 'fail';
    try {
      await create('backups', backupManifest('bk-a-2', 'bk-a'));
      const failed = await phaseOf('backups', 'bk-a-2', 'FAILED');
      expect(failed.status.message).toContain('failed');
      expect(failed.status.conditions?.find((c) => c.type === 'Succeeded')).toMatchObject({ status: 'False', reason: 'BackupFailed' });
      expect((await events('backups/bk-a-2')).find((e) => e.type === 'Warning')?.reason).toBe('BackupFailed');
      expect((await get('sites', 'bk-a'))?.status.phase).toBe('ACTIVE');
      // The Backup follows its one command: an operator creates a new Backup instead of retrying it.
      const retry = await call(`${V1}/commands/${String(failed.status['command'])}/retry`, { method: 'POST' });
      expect(retry.status).toBe(409);
      expect(retry.text).toContain('create a new Backup');
    } finally {
      agent.behaviour = 'succeed';
    }
  });

  it('refuses a Restore of a missing or not SUCCEEDED Backup (422)', async () => {
    const missing = await call(`${V1}/restores`, { method: 'POST', body: restoreManifest('rs-none', 'no-such-backup') });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('spec.backup');
    expect((await call(`${V1}/restores`, { method: 'POST', body: restoreManifest('rs-failed', 'bk-a-2') })).status).toBe(422);
  });

  it('restores into the site after a pre-restore backup: RestoreSite, the site RESTORING then ACTIVE', async () => {
    await create('restores', restoreManifest('rs-a', 'bk-a-1'));
    const done = await phaseOf('restores', 'rs-a', 'SUCCEEDED');
    expect(done.status).toMatchObject({ site: 'bk-a', preRestoreBackup: 'rs-a-pre-restore' });
    const pre = (await get('backups', 'rs-a-pre-restore'))!;
    expect(pre.spec).toMatchObject({ site: 'bk-a', reason: 'pre-restore' });
    expect(pre.metadata.labels).toMatchObject({ 'pressluft.io/restore': 'rs-a', 'pressluft.io/site': 'bk-a' });
    expect(pre.status.phase).toBe('SUCCEEDED');
    const operations = hostCalls('bk-a');
    expect(operations.slice(operations.lastIndexOf('backup'))).toEqual(['backup', 'restore']);
    const restoreCommand = agent.received.filter((r) => r.command.payload?.$case === 'restoreSite').at(-1)?.command.payload;
    expect(restoreCommand?.$case === 'restoreSite' && restoreCommand.value).toMatchObject({ backup: 'bk-a-1', store: 'local', sourceDomains: ['bk-a.example.test'], site: { name: 'bk-a' } });
    expect((await phaseOf('sites', 'bk-a', 'ACTIVE')).status.conditions?.find((c) => c.type === 'Reconciling')?.reason).toBe('Restored');
  });

  it('while a Restore runs, refuses a spec change, a delete and a second Restore of the site (409); skipping the pre-restore backup warns', async () => {
    agent.behaviour = 'hang';
    await create('restores', restoreManifest('rs-b', 'bk-a-1', { skipPreRestoreBackup: true }));
    await phaseOf('restores', 'rs-b', 'RUNNING');
    expect((await get('sites', 'bk-a'))?.status.phase).toBe('RESTORING');
    expect((await call(`${V1}/sites/bk-a`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { wordpress: { title: 'Changed' } } } })).status).toBe(409);
    expect((await call(`${V1}/sites/bk-a`, { method: 'DELETE' })).status).toBe(409);
    expect((await call(`${V1}/restores`, { method: 'POST', body: restoreManifest('rs-c', 'bk-a-1') })).status).toBe(409);
    expect((await events('restores/rs-b')).find((e) => e.type === 'Warning')?.reason).toBe('PreRestoreBackupSkipped');
    expect(await get('backups', 'rs-b-pre-restore')).toBeUndefined();
    agent.finishHanging();
    await phaseOf('restores', 'rs-b', 'SUCCEEDED');
  });

  it('restores a copy under a new name with its own domains; without them the copy cannot take the original\'s domains', async () => {
    await create('restores', restoreManifest('rs-copy-bad', 'bk-a-1', { site: 'bk-copy' }));
    const refused = await phaseOf('restores', 'rs-copy-bad', 'FAILED');
    expect(refused.status.message).toContain('domain bk-a.example.test is already used by site bk-a');
    expect(await get('sites', 'bk-copy')).toBeUndefined();

    await create('restores', restoreManifest('rs-copy', 'bk-a-1', { site: 'bk-copy', domains: ['copy.example.test'] }));
    const done = await phaseOf('restores', 'rs-copy', 'SUCCEEDED');
    expect(done.status).toMatchObject({ site: 'bk-copy', createdSite: true });
    const copy = await phaseOf('sites', 'bk-copy', 'ACTIVE');
    expect(copy.spec['domains']).toEqual(['copy.example.test']);
    const restored = agent.received.filter((r) => r.command.ref?.site === 'bk-copy').map((r) => r.command.payload);
    expect(restored.map((p) => p?.$case)).toEqual(['provisionSite', 'restoreSite']);
    const payload = restored[1];
    // The backup's domains go along, so the node rewrites the URLs for the copy.
    expect(payload?.$case === 'restoreSite' && payload.value).toMatchObject({ sourceDomains: ['bk-a.example.test'], site: { name: 'bk-copy', domains: ['copy.example.test'] } });
  });

  it('leaves the site ACTIVE when RestoreSite fails, and the Restore FAILED', async () => {
    agent.behaviour = 'fail';
    try {
      await create('restores', restoreManifest('rs-d', 'bk-a-1', { skipPreRestoreBackup: true }));
      const failed = await phaseOf('restores', 'rs-d', 'FAILED');
      expect(failed.status.message).toContain('serves what it served before');
      const site = await phaseOf('sites', 'bk-a', 'ACTIVE');
      expect(site.status.conditions?.find((c) => c.type === 'Reconciling')?.reason).toBe('RestoreFailed');
    } finally {
      agent.behaviour = 'succeed';
    }
  });

  it('takes a backup before deleting a site; a failed one blocks the deletion until it is skipped', async () => {
    const site = await activeSite('bk-c');
    const preDelete = `bk-c-pre-delete-${site.metadata.uid.slice(0, 8)}`;
    agent.behaviour = 'fail';
    expect((await call(`${V1}/sites/bk-c`, { method: 'DELETE' })).status).toBe(202);
    await phaseOf('backups', preDelete, 'FAILED');
    const blocked = await until('bk-c blocked', async () => {
      const s = await get('sites', 'bk-c');
      return s?.status.conditions?.some((c) => c.reason === 'PreDeleteBackupFailed') ? s : undefined;
    });
    expect(blocked.status.conditions?.find((c) => c.reason === 'PreDeleteBackupFailed')?.message).toContain('skipPreDeleteBackup');
    expect(hostCalls('bk-c')).not.toContain('remove');
    agent.behaviour = 'succeed';
    const skip = await call(`${V1}/sites/bk-c`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { backup: { skipPreDeleteBackup: true } } } });
    expect(skip.status, skip.text).toBe(200);
    await until('bk-c gone', async () => ((await call(`${V1}/sites/bk-c`)).status === 404 ? true : undefined));
    expect(hostCalls('bk-c')).toEqual(['provision', 'backup', 'remove']);
    expect((await events('sites/bk-c')).find((e) => e.reason === 'PreDeleteBackupSkipped')?.type).toBe('Warning');
  });

  it('deletes a site after its pre-delete backup SUCCEEDED, and a Restore of that backup brings the site back', async () => {
    const site = await activeSite('bk-d');
    const preDelete = `bk-d-pre-delete-${site.metadata.uid.slice(0, 8)}`;
    expect((await call(`${V1}/sites/bk-d`, { method: 'DELETE' })).status).toBe(202);
    await until('bk-d gone', async () => ((await call(`${V1}/sites/bk-d`)).status === 404 ? true : undefined));
    expect(hostCalls('bk-d')).toEqual(['provision', 'backup', 'remove']);
    const backup = (await get('backups', preDelete))!;
    expect(backup.status.phase).toBe('SUCCEEDED');
    expect(backup.spec['reason']).toBe('pre-delete');

    await create('restores', restoreManifest('rs-e', preDelete));
    const done = await phaseOf('restores', 'rs-e', 'SUCCEEDED');
    expect(done.status).toMatchObject({ site: 'bk-d', createdSite: true });
    expect(done.status['preRestoreBackup']).toBeUndefined();
    const back = await phaseOf('sites', 'bk-d', 'ACTIVE');
    expect(back.metadata.uid).not.toBe(site.metadata.uid);
    expect(back.spec['domains']).toEqual(['bk-d.example.test']);
    // The new incarnation was provisioned, then restored; no backup of the new empty site.
    expect(hostCalls('bk-d')).toEqual(['provision', 'backup', 'remove', 'provision', 'restore']);
  });
});
