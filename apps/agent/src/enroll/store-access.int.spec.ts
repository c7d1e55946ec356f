import { X509Certificate } from 'node:crypto';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { createCertificateAuthority, issueCertificate, type PemPair } from '@pressluft/platform';
import { NodeServiceService, type BackupStoreAccessRequest, type BackupStoreAccessResponse } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeIdentity } from './identity.js';
import { StoreAccessClient } from './store-access.js';

/*
 * The agent's side of NodeService.BackupStoreAccess over real gRPC and mutual TLS, against a
 * stand-in for the control plane (its own tests cover the real server and its rules): the node's
 * certificate is presented, an answer comes back whole, a refusal or an unreachable control
 * plane is a named failure the command reports.
 */

const STORE: BackupStoreAccessResponse = { repository: '/srv/backups/default', password: 'pw-Jd83kf0s', sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' };

describe('agent store access client', () => {
  let ca: PemPair;
  let server: Server;
  let endpoint: string;
  const calls: Array<{ request: BackupStoreAccessRequest; subject: string | undefined }> = [];

  const identityOf = (pair: PemPair, caPem: string): NodeIdentity => ({
    stateDir: '/nonexistent',
    node: 'web-1',
    keyPem: pair.key,
    certificatePem: pair.cert,
    caPem,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    nats: { url: 'tls://127.0.0.1:4222', stream: 'S', durable: 'agent-web-1', commandSubject: 'c', eventSubjectPrefix: 'e', inboxPrefix: 'i' },
  });

  beforeAll(async () => {
    ca = await createCertificateAuthority('stand-in CA', 1);
    const serving = await issueCertificate(ca, { commonName: 'stand-in', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
    server = new Server();
    server.addService(NodeServiceService, {
      backupStoreAccess: (call: ServerUnaryCall<BackupStoreAccessRequest, BackupStoreAccessResponse>, callback: sendUnaryData<BackupStoreAccessResponse>) => {
        const raw = call.getAuthContext().sslPeerCertificate?.raw;
        calls.push({ request: call.request, subject: raw ? new X509Certificate(raw).subject : undefined });
        if (call.request.command !== 'shop-7') callback({ code: status.PERMISSION_DENIED, details: `command ${call.request.command} is SUCCEEDED, no longer in flight` });
        else callback(null, STORE);
      },
    });
    // A client certificate from the CA is required (the TLS layer refuses anything else).
    const credentials = ServerCredentials.createSsl(Buffer.from(ca.cert), [{ private_key: Buffer.from(serving.key), cert_chain: Buffer.from(serving.cert) }], true);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, p) => (error ? reject(error) : resolve(p))));
    endpoint = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it("presents the node's certificate and answers the store as the control plane sent it", async () => {
    const identity = identityOf(await issueCertificate(ca, { commonName: 'node:web-1', usage: 'client', validityDays: 1 }), ca.cert);
    const client = new StoreAccessClient(identity, endpoint);
    expect(await client.access('default', 'shop-7')).toEqual(STORE);
    expect(calls.at(-1)).toEqual({ request: { store: 'default', command: 'shop-7' }, subject: 'CN=node:web-1' });
  });

  it('reports a refusal as BackupStoreAccessDenied with the reason', async () => {
    const identity = identityOf(await issueCertificate(ca, { commonName: 'node:web-1', usage: 'client', validityDays: 1 }), ca.cert);
    await expect(new StoreAccessClient(identity, endpoint).access('default', 'shop-6')).rejects.toMatchObject({
      reason: 'BackupStoreAccessDenied',
      message: 'the control plane refused backup store default for command shop-6: command shop-6 is SUCCEEDED, no longer in flight',
    });
  });

  it('reports a control plane it cannot reach, or one that does not trust it, as BackupStoreUnavailable', async () => {
    const stranger = await createCertificateAuthority('another CA', 1);
    const foreign = identityOf(await issueCertificate(stranger, { commonName: 'node:web-1', usage: 'client', validityDays: 1 }), ca.cert);
    const before = calls.length;
    await expect(new StoreAccessClient(foreign, endpoint, 3000).access('default', 'shop-7')).rejects.toMatchObject({ reason: 'BackupStoreUnavailable' });
    expect(calls).toHaveLength(before);
    const identity = identityOf(await issueCertificate(ca, { commonName: 'node:web-1', usage: 'client', validityDays: 1 }), ca.cert);
    await expect(new StoreAccessClient(identity, '127.0.0.1:1', 3000).access('default', 'shop-7')).rejects.toMatchObject({
      reason: 'BackupStoreUnavailable',
      message: expect.stringMatching(/^backup store default: the control plane could not be asked \(UNAVAILABLE: /),
    });
  });
});
