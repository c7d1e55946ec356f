import { X509Certificate } from 'node:crypto';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { createCertificateAuthority, issueCertificate, type PemPair } from '@pressluft/platform';
import { NodeServiceService, type SiteSecretAccessRequest, type SiteSecretAccessResponse } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeIdentity } from './identity.js';
import { SiteSecretAccessClient } from './site-secret-access.js';

/*
 * The agent's side of NodeService.SiteSecretAccess over real gRPC and mutual TLS, against a
 * stand-in for the control plane (its own tests cover the real server and its rules): the node's
 * certificate is presented, the value comes back whole, a refusal, an empty answer or an
 * unreachable control plane is a named failure that never carries the value.
 */

const TOKEN = 'cf-token-Jd83kf0s';

describe('agent site secret access client', () => {
  let ca: PemPair;
  let server: Server;
  let endpoint: string;
  const calls: Array<{ request: SiteSecretAccessRequest; subject: string | undefined }> = [];

  const identityOf = (pair: PemPair, caPem: string): NodeIdentity => ({
    stateDir: '/nonexistent',
    node: 'web-1',
    keyPem: pair.key,
    certificatePem: pair.cert,
    caPem,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    nats: { url: 'tls://127.0.0.1:4222', stream: 'S', durable: 'agent-web-1', commandSubject: 'c', eventSubjectPrefix: 'e', inboxPrefix: 'i' },
  });
  const nodeIdentity = async () => identityOf(await issueCertificate(ca, { commonName: 'node:web-1', usage: 'client', validityDays: 1 }), ca.cert);

  beforeAll(async () => {
    ca = await createCertificateAuthority('stand-in CA', 1);
    const serving = await issueCertificate(ca, { commonName: 'stand-in', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
    server = new Server();
    server.addService(NodeServiceService, {
      siteSecretAccess: (call: ServerUnaryCall<SiteSecretAccessRequest, SiteSecretAccessResponse>, callback: sendUnaryData<SiteSecretAccessResponse>) => {
        const raw = call.getAuthContext().sslPeerCertificate?.raw;
        calls.push({ request: call.request, subject: raw ? new X509Certificate(raw).subject : undefined });
        if (call.request.command !== 'shop-7') callback({ code: status.PERMISSION_DENIED, details: `command ${call.request.command} is not in flight` });
        else if (call.request.field === 'tlsPrivateKey') callback(null, { value: '' });
        else callback(null, { value: TOKEN });
      },
    });
    const credentials = ServerCredentials.createSsl(Buffer.from(ca.cert), [{ private_key: Buffer.from(serving.key), cert_chain: Buffer.from(serving.cert) }], true);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, p) => (error ? reject(error) : resolve(p))));
    endpoint = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it("presents the node's certificate, names site, field and command, and answers the value", async () => {
    const client = new SiteSecretAccessClient(await nodeIdentity(), endpoint);
    expect(await client.access('shop', 'dnsApiToken', 'shop-7')).toBe(TOKEN);
    expect(calls.at(-1)).toEqual({ request: { site: 'shop', field: 'dnsApiToken', command: 'shop-7' }, subject: 'CN=node:web-1' });
  });

  it('reports a refusal as SiteSecretAccessDenied with the reason, an empty answer as SiteSecretMissing', async () => {
    const client = new SiteSecretAccessClient(await nodeIdentity(), endpoint);
    await expect(client.access('shop', 'dnsApiToken', 'shop-6')).rejects.toMatchObject({
      reason: 'SiteSecretAccessDenied',
      message: 'the control plane refused dnsApiToken of site shop for command shop-6: command shop-6 is not in flight',
    });
    await expect(client.access('shop', 'tlsPrivateKey', 'shop-7')).rejects.toMatchObject({ reason: 'SiteSecretMissing', message: 'site shop has no tlsPrivateKey in spec.credentials' });
  });

  it('reports a control plane it cannot reach, or one that does not trust it, as SiteSecretUnavailable', async () => {
    const stranger = await createCertificateAuthority('another CA', 1);
    const foreign = identityOf(await issueCertificate(stranger, { commonName: 'node:web-1', usage: 'client', validityDays: 1 }), ca.cert);
    const before = calls.length;
    await expect(new SiteSecretAccessClient(foreign, endpoint, 3000).access('shop', 'dnsApiToken', 'shop-7')).rejects.toMatchObject({ reason: 'SiteSecretUnavailable' });
    expect(calls).toHaveLength(before);
    await expect(new SiteSecretAccessClient(await nodeIdentity(), '127.0.0.1:1', 3000).access('shop', 'dnsApiToken', 'shop-7')).rejects.toMatchObject({
      reason: 'SiteSecretUnavailable',
      message: expect.stringMatching(/^dnsApiToken of site shop: the control plane could not be asked \(UNAVAILABLE: /),
    });
  });
});
