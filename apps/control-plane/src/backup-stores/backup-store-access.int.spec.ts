import 'reflect-metadata';
import type { CommandSpec, CommandState } from '@pressluft/domain';
import { api, callBackupStoreAccess, type CallResult, type ClientIdentity } from '@pressluft/e2e-harness';
import { issueCertificate } from '@pressluft/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { nodeIdentities, type NodeIdentities } from '../../test/node-identity.js';
import { EnrollmentGrpcServer } from '../enrollment/enrollment.grpc.js';

/*
 * NodeService.BackupStoreAccess over real gRPC and mutual TLS against a real control plane: the
 * caller's client certificate names the node; only its own in-flight BackupSite or RestoreSite
 * naming the store gets the store's credentials.
 */

const STORES = '/apis/pressluft.io/v1/backupstores';
const PASSWORD = 'restic-password-Vb8kN3';

const expectCode = <T>(result: CallResult<T>, codeName: string, details?: string) => {
  expect(result.ok ? 'OK' : `${result.codeName}: ${result.details}`).toMatch(new RegExp(`^${codeName}`));
  if (details && !result.ok) expect(result.details).toContain(details);
  if (!result.ok) expect(result.details).not.toContain(PASSWORD);
};

describe('NodeService.BackupStoreAccess (gRPC, mutual TLS)', () => {
  let fx: ControlPlaneFixture;
  let nodes: NodeIdentities;
  let endpoint: string;
  const identities = new Map<string, ClientIdentity>();

  const command = (name: string, spec: Partial<CommandSpec>, state: CommandState) =>
    nodes.command(name, { site: 'shop', node: 'n1', fence: 1, operation: 'BackupSite', generation: 1, backup: 'shop-b1', store: 'offsite', ...spec }, state);

  const ask = (node: string, store: string, commandName: string) => callBackupStoreAccess(endpoint, nodes.caPem, { store, command: commandName }, identities.get(node));

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ grpc: true });
    nodes = nodeIdentities(fx);
    endpoint = `127.0.0.1:${fx.plane.app.get(EnrollmentGrpcServer).port}`;
    for (const node of ['n1', 'n2']) identities.set(node, await nodes.certify(node));
    const call = (body: unknown) => api(fx.plane.httpUrl, STORES, { method: 'POST', token: fx.adminToken, body });
    expect((await call({ apiVersion: 'pressluft.io/v1', kind: 'BackupStore', metadata: { name: 'offsite' }, spec: { repository: 'rest:http://127.0.0.1:8000/shop', credentials: { password: PASSWORD, restUsername: 'shop', restPassword: 'rest-secret-Hq2' } } })).status).toBe(201);
    expect((await call({ apiVersion: 'pressluft.io/v1', kind: 'BackupStore', metadata: { name: 'bare' }, spec: { repository: '/srv/backups/bare' } })).status).toBe(201);
    await command('shop-1', {}, 'RUNNING');
    await command('shop-2', { fence: 2, operation: 'RestoreSite', restore: 'shop-r1' }, 'DISPATCHED');
    await command('shop-3', { fence: 3 }, 'SUCCEEDED');
    await command('shop-4', { fence: 4, operation: 'DeploySite', backup: undefined, store: undefined }, 'RUNNING');
    await command('shop-5', { fence: 5, store: 'bare' }, 'PENDING');
    await command('shop-6', { fence: 6, store: 'gone' }, 'RUNNING');
  });

  afterAll(async () => {
    await fx?.stop();
  });

  it("hands the node its in-flight backup's and restore's store credentials", async () => {
    const expected = { repository: 'rest:http://127.0.0.1:8000/shop', password: PASSWORD, sshPrivateKey: '', sshKnownHosts: '', restUsername: 'shop', restPassword: 'rest-secret-Hq2' };
    expect(await ask('n1', 'offsite', 'shop-1')).toEqual({ ok: true, response: expected });
    expect(await ask('n1', 'offsite', 'shop-2')).toEqual({ ok: true, response: expected });
  });

  it("refuses another node, a finished command, another store and an operation that is not a backup or restore", async () => {
    expectCode(await ask('n2', 'offsite', 'shop-1'), 'PERMISSION_DENIED', 'command shop-1 is not for node n2');
    expectCode(await ask('n1', 'offsite', 'shop-3'), 'PERMISSION_DENIED', 'command shop-3 is SUCCEEDED, no longer in flight');
    expectCode(await ask('n1', 'bare', 'shop-1'), 'PERMISSION_DENIED', 'command shop-1 does not use backup store bare');
    expectCode(await ask('n1', 'offsite', 'shop-4'), 'PERMISSION_DENIED', 'command shop-4 is a DeploySite');
    expectCode(await ask('n1', 'offsite', 'shop-99'), 'PERMISSION_DENIED', 'command shop-99 does not exist');
  });

  it('answers NOT_FOUND for a missing store and FAILED_PRECONDITION for a store without credentials', async () => {
    expectCode(await ask('n1', 'gone', 'shop-6'), 'NOT_FOUND', 'backup store gone does not exist');
    expectCode(await ask('n1', 'bare', 'shop-5'), 'FAILED_PRECONDITION', 'backup store bare has no credentials');
  });

  it('refuses a caller without a node certificate, with a superseded one, and with one of another CA', async () => {
    expectCode(await ask('nobody', 'offsite', 'shop-1'), 'UNAUTHENTICATED', 'requires the node');
    const old = identities.get('n1');
    identities.set('n1', await nodes.certify('n1'));
    identities.set('old', old as ClientIdentity);
    expectCode(await ask('old', 'offsite', 'shop-1'), 'OK');
    // Renewed once more: the first certificate is two generations old now.
    identities.set('n1', await nodes.certify('n1'));
    expectCode(await ask('old', 'offsite', 'shop-1'), 'UNAUTHENTICATED', 'superseded');
    const controlPlane = await issueCertificate(nodes.ca, { commonName: 'pressluft-control-plane', usage: 'client', validityDays: 1 });
    identities.set('control-plane', controlPlane);
    expectCode(await ask('control-plane', 'offsite', 'shop-1'), 'PERMISSION_DENIED', 'only a node certificate');
  });
});
