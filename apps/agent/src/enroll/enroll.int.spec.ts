import 'reflect-metadata';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { createCertificateAuthority, createKeyAndCsr, issueCertificate, signCsr, type PemPair } from '@pressluft/platform';
import { EnrollmentServiceService, type EnrollRequest, type EnrollResponse, type RenewRequest } from '@pressluft/proto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enroll, EnrollmentFailed, renewIfDue } from './enroll.js';
import { identityPath, loadIdentity } from './identity.js';

/*
 * The agent's side of enrollment over real gRPC and TLS, against a small stand-in for the
 * control plane's Enrollment service (the control plane's own tests cover the real server):
 * what the agent sends, what it checks, and what it keeps.
 */

const TOKEN = `plj_${'t'.repeat(43)}`;
const DAY = 86_400_000;

type Mode = 'normal' | 'foreign-key';

describe('agent enrollment client', () => {
  let ca: PemPair;
  let enrollServer: Server;
  let renewServer: Server;
  let enrollEndpoint: string;
  let renewEndpoint: string;
  let mode: Mode = 'normal';
  const enrollRequests: EnrollRequest[] = [];
  const renewCalls: Array<{ request: RenewRequest; peerCertificate: string | undefined }> = [];
  const dirs: string[] = [];
  const stateDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pressluft-agent-enroll-'));
    dirs.push(dir);
    return join(dir, 'state');
  };

  const answer = async (node: string, csrPem: string): Promise<EnrollResponse> => {
    const csr = mode === 'foreign-key' ? (await createKeyAndCsr(`node:${node}`)).csr : csrPem;
    // As the control plane does: the certificate's bus identity (ADR 0012) in a URI SAN.
    const certificatePem = await signCsr(ca, csr, { commonName: `node:${node}`, usage: 'client', validityDays: 90, uris: [`urn:pressluft:node:${node}:certificate:${randomBytes(8).toString('hex')}`] });
    return {
      certificatePem,
      caPem: ca.cert,
      expiresAt: new X509Certificate(certificatePem).validTo,
      nats: {
        url: 'tls://127.0.0.1:4222',
        stream: 'PRESSLUFT_COMMANDS',
        durable: `agent-${node}`,
        commandSubject: `pressluft.cmd.${node}`,
        eventSubjectPrefix: `pressluft.evt.${node}`,
        inboxPrefix: `_INBOX.node.${node}`,
      },
    };
  };

  const reply = <T>(callback: sendUnaryData<T>, work: () => Promise<T>) => {
    work().then(
      (response) => callback(null, response),
      (error: unknown) => callback({ code: status.INTERNAL, details: String(error) }),
    );
  };

  const listen = async (server: Server, creds: ServerCredentials): Promise<string> => {
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (error, p) => (error ? reject(error) : resolve(p))));
    return `127.0.0.1:${port}`;
  };

  beforeAll(async () => {
    ca = await createCertificateAuthority('stand-in CA', 1);
    const serving = await issueCertificate(ca, { commonName: 'stand-in', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
    const pair = [{ private_key: Buffer.from(serving.key), cert_chain: Buffer.from(serving.cert) }];

    enrollServer = new Server();
    enrollServer.addService(EnrollmentServiceService, {
      enroll: (call: ServerUnaryCall<EnrollRequest, EnrollResponse>, callback: sendUnaryData<EnrollResponse>) => {
        enrollRequests.push(call.request);
        if (call.request.joinToken !== TOKEN) {
          callback({ code: status.UNAUTHENTICATED, details: 'the join token is not valid for this node' });
          return;
        }
        reply(callback, () => answer(call.request.node, call.request.csrPem));
      },
      renew: (_call: ServerUnaryCall<RenewRequest, EnrollResponse>, callback: sendUnaryData<EnrollResponse>) => callback({ code: status.UNIMPLEMENTED }),
    });
    enrollEndpoint = await listen(enrollServer, ServerCredentials.createSsl(Buffer.from(ca.cert), pair, false));

    // Renew requires a client certificate signed by the CA (the TLS layer refuses anything else).
    renewServer = new Server();
    renewServer.addService(EnrollmentServiceService, {
      enroll: (_call: ServerUnaryCall<EnrollRequest, EnrollResponse>, callback: sendUnaryData<EnrollResponse>) => callback({ code: status.UNIMPLEMENTED }),
      renew: (call: ServerUnaryCall<RenewRequest, EnrollResponse>, callback: sendUnaryData<EnrollResponse>) => {
        const raw = call.getAuthContext().sslPeerCertificate?.raw;
        const peerCertificate = raw ? new X509Certificate(raw).toString() : undefined;
        renewCalls.push({ request: call.request, peerCertificate });
        const node = /^CN=node:(.+)$/.exec(raw ? new X509Certificate(raw).subject : '')?.[1];
        if (!node) {
          callback({ code: status.UNAUTHENTICATED, details: 'no node certificate' });
          return;
        }
        reply(callback, () => answer(node, call.request.csrPem));
      },
    });
    renewEndpoint = await listen(renewServer, ServerCredentials.createSsl(Buffer.from(ca.cert), pair, true));
  });

  beforeEach(() => {
    mode = 'normal';
  });

  afterAll(async () => {
    await Promise.all([enrollServer, renewServer].map((s) => new Promise<void>((resolve) => (s ? s.tryShutdown(() => resolve()) : resolve()))));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const options = (dir: string, overrides: Partial<Parameters<typeof enroll>[0]> = {}) => ({
    endpoint: enrollEndpoint,
    caPem: ca.cert,
    joinToken: TOKEN,
    node: 'web-1',
    stateDir: dir,
    agentVersion: 'pressluft-agent/0.1.0',
    ...overrides,
  });

  it('makes its key locally, sends only the request, and keeps the identity (0600)', async () => {
    const dir = stateDir();
    const before = enrollRequests.length;
    const identity = await enroll(options(dir));

    const sent = enrollRequests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ joinToken: TOKEN, node: 'web-1', agentVersion: 'pressluft-agent/0.1.0' });
    expect(sent[0]?.csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect(JSON.stringify(sent)).not.toContain('PRIVATE KEY');

    const cert = new X509Certificate(identity.certificatePem);
    expect(cert.subject).toBe('CN=node:web-1');
    expect(cert.checkPrivateKey(createPrivateKey(identity.keyPem))).toBe(true);
    expect(identity.nats.durable).toBe('agent-web-1');
    expect(identity.expiresAt).toBe(new Date(cert.validTo).toISOString());
    expect(statSync(identityPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(loadIdentity(dir)).toEqual(identity);
  });

  it('verifies the server against the given CA only', async () => {
    const dir = stateDir();
    const stranger = await createCertificateAuthority('stand-in CA', 1);
    const failure = await enroll(options(dir, { caPem: stranger.cert })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EnrollmentFailed);
    expect((failure as EnrollmentFailed).code).toBe(status.UNAVAILABLE);
    expect(existsSync(identityPath(dir))).toBe(false);
  });

  it('reports a refusal with its gRPC code and keeps nothing', async () => {
    const dir = stateDir();
    const failure = await enroll(options(dir, { joinToken: `plj_${'x'.repeat(43)}` })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EnrollmentFailed);
    expect((failure as EnrollmentFailed).code).toBe(status.UNAUTHENTICATED);
    expect((failure as EnrollmentFailed).message).not.toContain('plj_');
    expect(existsSync(identityPath(dir))).toBe(false);
  });

  it('refuses a certificate that is not for its own key', async () => {
    const dir = stateDir();
    mode = 'foreign-key';
    await expect(enroll(options(dir))).rejects.toThrow(/not for the key/);
    expect(existsSync(identityPath(dir))).toBe(false);
  });

  it('refuses bad arguments before calling anyone', async () => {
    const before = enrollRequests.length;
    await expect(enroll(options(stateDir(), { node: '../etc' }))).rejects.toThrow(/not a valid node name/);
    await expect(enroll(options(stateDir(), { endpoint: 'http://x' }))).rejects.toThrow(/host:port/);
    expect(enrollRequests.length).toBe(before);
  });

  it('renews over mutual TLS with a new key once less than a third of the validity is left', async () => {
    const dir = stateDir();
    const first = await enroll(options(dir));
    const callsBefore = renewCalls.length;

    const early = await renewIfDue(first, renewEndpoint, new Date(Date.now() + 59 * DAY));
    expect(early.renewed).toBe(false);
    expect(early.identity).toBe(first);
    expect(renewCalls.length).toBe(callsBefore);

    const due = await renewIfDue(first, renewEndpoint, new Date(Date.now() + 61 * DAY));
    expect(due.renewed).toBe(true);
    const call = renewCalls.at(-1);
    expect(call?.peerCertificate).toBe(new X509Certificate(first.certificatePem).toString());
    expect(JSON.stringify(call?.request)).not.toContain('PRIVATE KEY');
    expect(due.identity.keyPem).not.toBe(first.keyPem);
    expect(new X509Certificate(due.identity.certificatePem).checkPrivateKey(createPrivateKey(due.identity.keyPem))).toBe(true);
    expect(new X509Certificate(due.identity.certificatePem).serialNumber).not.toBe(new X509Certificate(first.certificatePem).serialNumber);
    expect(loadIdentity(dir)).toEqual(due.identity);
  });
});
