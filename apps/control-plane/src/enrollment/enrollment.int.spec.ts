import 'reflect-metadata';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { api, type ApiResponse, callEnroll, callRenew, type CallResult, type ClientIdentity } from '@pressluft/e2e-harness';
import { COMMAND_STREAM, createCertificateAuthority, createKeyAndCsr, EVENT_STREAM, issueCertificate, signCsr } from '@pressluft/platform';
import type { EnrollResponse } from '@pressluft/proto';
import { NatsService, pgQuery, sleep } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadControlPlaneConfig } from '../config/control-plane.config.js';
import { NatsClient } from '../infra/nats.client.js';
import { parseNatsServerArgs, writeNatsServerPki } from '../pki/nats-server.command.js';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { EnrollmentGrpcServer } from './enrollment.grpc.js';
import { NODE_ACK_WAIT_MS, NODE_MAX_DELIVER } from './nats-authorization.service.js';

/*
 * Enrollment end to end against a real control plane (its own database on the run-wide
 * PostgreSQL, the run-wide NATS) over real gRPC/TLS: join tokens through the API, Enroll with a
 * locally made key and CSR, Renew over mutual TLS.
 */

const JOIN = '/auth/v1/jointokens';
const V1 = '/apis/pressluft.io/v1';
/** Unique per test process: the run-wide NATS is shared with other test files. */
const PREFIX = `en${process.pid % 100_000}`;
const nodeName = (suffix: string) => `${PREFIX}-${suffix}`;

type Obj = Record<string, unknown>;
interface JoinToken {
  id: string;
  token: string;
  node: string;
  state: string;
  expiresAt: string;
  createdAt: string;
  createdBy: string;
  usedAt?: string;
  revokedAt?: string;
}

type NodeNatsSettings = NonNullable<EnrollResponse['nats']>;

const expectCode = <T>(result: CallResult<T>, codeName: string) => {
  expect(result.ok ? 'OK' : `${result.codeName}: ${result.details}`).toMatch(new RegExp(`^${codeName}`));
};

describe('node enrollment (control plane + gRPC over TLS)', () => {
  let fx: ControlPlaneFixture;
  let dir: string;
  let authzFile: string;
  let caPem: string;
  let endpoint: string;
  const nodes = new Set<string>();
  const secrets: string[] = [];

  const call = <T = Obj>(path: string, options: Parameters<typeof api>[2] = {}): Promise<ApiResponse<T>> =>
    api<T>(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });

  const joinToken = async (node: string, ttlSeconds?: number): Promise<JoinToken> => {
    const res = await call<JoinToken>(JOIN, { method: 'POST', body: { node, ...(ttlSeconds ? { ttlSeconds } : {}) } });
    expect(res.status, res.text).toBe(201);
    secrets.push(res.body.token);
    nodes.add(node);
    return res.body;
  };

  const tokenState = async (id: string) => (await call<{ items: JoinToken[] }>(JOIN)).body.items.find((t) => t.id === id)?.state;
  const enrollment = async (node: string) => (await pgQuery(fx.database.url, 'SELECT serial, previous_serial FROM node_enrollments WHERE node = $1', [node])).rows[0] as { serial: string; previous_serial: string | null } | undefined;

  /** Makes a key and CSR here and enrolls with them; returns the call result and the key. */
  const enrollNode = async (node: string, token: string, extra: { csrPem?: string; agentVersion?: string } = {}): Promise<{ result: CallResult<EnrollResponse>; key: string }> => {
    const { key, csr } = await createKeyAndCsr(`node:${node}`);
    const result = await callEnroll(endpoint, caPem, { joinToken: token, node, csrPem: extra.csrPem ?? csr, agentVersion: extra.agentVersion ?? 'pressluft-agent/0.1.0' });
    return { result, key };
  };


  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pressluft-enroll-'));
    authzFile = join(dir, 'authz.conf');
    fx = await startControlPlaneFixture({ grpc: true, env: { PRESSLUFT_NATS_AUTHZ_FILE: authzFile } });
    caPem = readFileSync(join(fx.pkiDir, 'ca.pem'), 'utf8');
    endpoint = `127.0.0.1:${fx.plane.app.get(EnrollmentGrpcServer).port}`;
  });

  afterAll(async () => {
    const nc = await connect({ servers: inject('services').nats.url }).catch(() => undefined);
    if (nc) {
      const jsm = await jetstreamManager(nc);
      for (const node of nodes) await jsm.consumers.delete(COMMAND_STREAM, `agent-${node}`).catch(() => undefined);
      await nc.close();
    }
    await fx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('join tokens (REST, admins only)', () => {
    it('creates a one-time token shown once, lists tokens without secrets, and revokes them', async () => {
      const before = Date.now();
      const created = await joinToken(nodeName('rest'), 600);
      expect(created).toMatchObject({ node: nodeName('rest'), state: 'Pending', createdBy: 'admin', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(created.token).toMatch(/^plj_[A-Za-z0-9_-]{43}$/);
      const ttl = new Date(created.expiresAt).getTime() - before;
      expect(ttl).toBeGreaterThan(595_000);
      expect(ttl).toBeLessThan(605_000);

      const stored = (await pgQuery(fx.database.url, 'SELECT token_hash FROM join_tokens WHERE id = $1', [created.id])).rows[0] as { token_hash: string };
      expect(stored.token_hash).toBe(createHash('sha256').update(created.token).digest('hex'));

      const list = await call<{ items: Obj[] }>(JOIN);
      expect(list.status).toBe(200);
      expect(list.body.items.find((t) => t['id'] === created.id)).toMatchObject({ node: nodeName('rest'), state: 'Pending' });
      expect(list.text).not.toContain(created.token);
      expect(list.text).not.toContain(stored.token_hash);
      for (const item of list.body.items) expect(Object.keys(item).join(' ')).not.toMatch(/token|hash/i);

      const revoked = await call<JoinToken>(`${JOIN}/${created.id}`, { method: 'DELETE' });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ id: created.id, state: 'Revoked', revokedAt: expect.any(String) });
      expect(revoked.text).not.toContain(created.token);
      // A revoked token enrolls nothing.
      const { result } = await enrollNode(nodeName('rest'), created.token);
      expectCode(result, 'UNAUTHENTICATED');
      expect((await call(`${V1}/nodes/${nodeName('rest')}`)).status).toBe(404);
    });

    it('defaults to one hour', async () => {
      const created = await joinToken(nodeName('default'));
      const ttl = new Date(created.expiresAt).getTime() - new Date(created.createdAt).getTime();
      expect(ttl).toBe(3600_000);
    });

    it('answers 404 for an unknown token id', async () => {
      for (const id of ['00000000-0000-0000-0000-000000000000', 'nope']) {
        const res = await call(`${JOIN}/${id}`, { method: 'DELETE' });
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
      }
    });

    it.each([
      ['no node', { ttlSeconds: 600 }, ['node']],
      ['an upper-case node', { node: 'Web' }, ['node']],
      ['a node with a dot', { node: 'a.b' }, ['node']],
      ['a node with a shell character', { node: 'a;b' }, ['node']],
      ['a numeric node', { node: 42 }, ['node']],
      ['a too short ttl', { node: 'ok', ttlSeconds: 59 }, ['ttlSeconds']],
      ['a too long ttl', { node: 'ok', ttlSeconds: 86_401 }, ['ttlSeconds']],
      ['a fractional ttl', { node: 'ok', ttlSeconds: 60.5 }, ['ttlSeconds']],
      ['a string ttl', { node: 'ok', ttlSeconds: '600' }, ['ttlSeconds']],
      ['an unknown field', { node: 'ok', role: 'admin' }, ['role']],
      ['everything wrong', { node: '', ttlSeconds: 0 }, ['node', 'ttlSeconds']],
    ])('refuses a request with %s (422 naming the field, nothing stored)', async (_label, body, fields) => {
      const before = await pgQuery(fx.database.url, 'SELECT count(*)::int AS n FROM join_tokens');
      const res = await call<{ details?: { causes?: Array<{ field: string }> } }>(JOIN, { method: 'POST', body });
      expect(res.status, res.text).toBe(422);
      expect(res.body).toMatchObject({ kind: 'Status', code: 422, reason: 'Invalid' });
      const causes = (res.body.details?.causes ?? []).map((c) => c.field);
      for (const field of fields) expect(causes).toContain(field);
      expect((await pgQuery(fx.database.url, 'SELECT count(*)::int AS n FROM join_tokens')).rows).toEqual(before.rows);
    });

    it('refuses a body that is not an object (400) and one that is not JSON (415)', async () => {
      expect((await call(JOIN, { method: 'POST', body: ['x'] })).status).toBe(400);
      expect((await call(JOIN, { method: 'POST', raw: 'node=x', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
    });

    it('is for admins only: operator and viewer get 403, no token 401', async () => {
      const operator = await fx.token('operator', 'olga');
      const viewer = await fx.token('viewer', 'vera');
      for (const token of [operator, viewer]) {
        expect((await call(JOIN, { token })).status).toBe(403);
        expect((await call(JOIN, { token, method: 'POST', body: { node: 'x' } })).status).toBe(403);
        expect((await call(`${JOIN}/00000000-0000-0000-0000-000000000000`, { token, method: 'DELETE' })).status).toBe(403);
      }
      expect((await api(fx.plane.httpUrl, JOIN)).status).toBe(401);
      expect((await api(fx.plane.httpUrl, JOIN, { method: 'POST', body: { node: 'x' } })).status).toBe(401);
    });
  });

  describe('Enroll', () => {
    it('wrote the authorization file at boot with the control plane user only', () => {
      const text = readFileSync(authzFile, 'utf8');
      expect(text).toContain('{ user: "CN=pressluft-control-plane" }');
    });

    it('refuses a bad token with UNAUTHENTICATED and changes nothing', async () => {
      const node = nodeName('bad');
      const good = await joinToken(node);
      const other = await joinToken(nodeName('other'));
      const attempts = [
        `plj_${'A'.repeat(43)}`, // well-formed, unknown
        'not-a-token',
        other.token, // valid, for another node
      ];
      for (const token of attempts) {
        const { result } = await enrollNode(node, token);
        expectCode(result, 'UNAUTHENTICATED');
        expect(result.ok ? '' : result.details).not.toContain(token);
      }
      const empty = await enrollNode(node, '');
      expectCode(empty.result, 'UNAUTHENTICATED');
      // Expired (moved into the past here rather than waiting the minimum of 60 s).
      const expired = await joinToken(node);
      await pgQuery(fx.database.url, "UPDATE join_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.id]);
      expectCode((await enrollNode(node, expired.token)).result, 'UNAUTHENTICATED');
      expect(await tokenState(expired.id)).toBe('Expired');
      expect((await call(`${V1}/nodes/${node}`)).status).toBe(404);
      expect(await enrollment(node)).toBeUndefined();
      expect(await tokenState(good.id)).toBe('Pending');
      expect(await tokenState(other.id)).toBe('Pending');
      expect(readFileSync(authzFile, 'utf8')).not.toContain(`node:${node}`);
    });

    it('refuses bad input with INVALID_ARGUMENT and leaves the token usable', async () => {
      const node = nodeName('input');
      const token = await joinToken(node);
      const { csr } = await createKeyAndCsr(`node:${node}`);
      const tampered = Buffer.from(csr.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64');
      tampered.write('x', tampered.indexOf(`node:${node}`));
      const cases: Array<[string, () => Promise<CallResult<unknown>>]> = [
        ['an invalid node name', async () => (await enrollNode('Bad_Name', token.token)).result],
        ['no CSR', () => callEnroll(endpoint, caPem, { joinToken: token.token, node, csrPem: '', agentVersion: 'v1' })],
        ['a CSR that is not PEM', () => callEnroll(endpoint, caPem, { joinToken: token.token, node, csrPem: 'hello', agentVersion: 'v1' })],
        [
          'a CSR whose signature does not verify',
          () => callEnroll(endpoint, caPem, { joinToken: token.token, node, csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${tampered.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`, agentVersion: 'v1' }),
        ],
        ['a bad agent version', async () => (await enrollNode(node, token.token, { agentVersion: 'v 1; rm -rf /' })).result],
      ];
      for (const [label, attempt] of cases) {
        const result = await attempt();
        expect(result.ok ? `${label}: OK` : `${label}: ${result.codeName}`).toBe(`${label}: INVALID_ARGUMENT`);
      }
      expect(await tokenState(token.id)).toBe('Pending');
      expect((await call(`${V1}/nodes/${node}`)).status).toBe(404);
      // And the token still works.
      const { result } = await enrollNode(node, token.token);
      expectCode(result, 'OK');
    });

    it('issues a certificate for the node, creates the Node, its consumer and its NATS user; the token is then spent', async () => {
      const node = nodeName('good');
      const token = await joinToken(node);
      const { result, key } = await enrollNode(node, token.token);
      if (!result.ok) throw new Error(`${result.codeName}: ${result.details}`);
      const { certificatePem, caPem: returnedCa, expiresAt, nats } = result.response;

      const cert = new X509Certificate(certificatePem);
      const ca = new X509Certificate(caPem);
      expect(cert.subject).toBe(`CN=node:${node}`);
      expect(cert.checkIssued(ca)).toBe(true);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkPrivateKey(createPrivateKey(key))).toBe(true);
      expect(cert.ca).toBe(false);
      expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
      expect(cert.subjectAltName).toBe(`URI:urn:pressluft:node:${node}:certificate:${cert.serialNumber.toLowerCase()}`);
      const days = (new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()) / 86_400_000;
      expect(Math.round(days)).toBe(90);
      expect(new Date(expiresAt).getTime()).toBe(new Date(cert.validTo).getTime());
      expect(returnedCa).toBe(caPem);
      expect(nats).toEqual({
        url: inject('services').nats.url,
        stream: 'PRESSLUFT_COMMANDS',
        durable: `agent-${node}`,
        commandSubject: `pressluft.cmd.${node}`,
        eventSubjectPrefix: `pressluft.evt.${node}`,
        inboxPrefix: `_INBOX.node.${node}`,
      });

      // The Node resource, created through the resource store, with its events.
      const created = await call<{ spec: Obj; metadata: { resourceVersion: string } }>(`${V1}/nodes/${node}`);
      expect(created.status).toBe(200);
      expect(created.body.spec).toMatchObject({ provider: 'static' });
      const events = await call<{ items: Array<{ spec?: Obj; reason?: string }> }>(`${V1}/events?involvedObject=nodes/${node}`);
      expect(JSON.stringify(events.body)).toContain('Enrolled');

      // The durable consumer the agent will pull from.
      const nc = await connect({ servers: inject('services').nats.url });
      try {
        const info = await (await jetstreamManager(nc)).consumers.info(COMMAND_STREAM, `agent-${node}`);
        expect(info.config).toMatchObject({ durable_name: `agent-${node}`, filter_subject: `pressluft.cmd.${node}`, ack_policy: 'explicit', ack_wait: NODE_ACK_WAIT_MS * 1_000_000, max_deliver: NODE_MAX_DELIVER });
      } finally {
        await nc.close();
      }

      // Its NATS user: this certificate (its URI), not the node's common name.
      const authz = readFileSync(authzFile, 'utf8');
      expect(authz).toContain(`{ user: "urn:pressluft:node:${node}:certificate:${cert.serialNumber.toLowerCase()}", permissions: { publish: { allow: ["pressluft.evt.${node}.>"`);
      expect(authz).not.toContain(`CN=node:${node}`);
      expect(authz).toContain('{ user: "CN=pressluft-control-plane" }');

      expect(await tokenState(token.id)).toBe('Used');
      expect((await enrollment(node))?.serial).toBe(cert.serialNumber.toLowerCase());

      // Spent: the same token cannot enroll again.
      const again = await enrollNode(node, token.token);
      expectCode(again.result, 'UNAUTHENTICATED');
    });

    it('keeps an existing Node as it is', async () => {
      const node = nodeName('kept');
      const created = await call(`${V1}/nodes`, { method: 'POST', body: { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: node, labels: { role: 'web' } }, spec: { provider: 'local' } } });
      expect(created.status).toBe(201);
      const token = await joinToken(node);
      expectCode((await enrollNode(node, token.token)).result, 'OK');
      const after = await call<{ spec: Obj; metadata: { labels: Obj } }>(`${V1}/nodes/${node}`);
      expect(after.body.spec).toMatchObject({ provider: 'local' });
      expect(after.body.metadata.labels).toEqual({ role: 'web' });
    });

    it('lets only one of two concurrent enrollments with the same token succeed', async () => {
      const node = nodeName('race');
      const token = await joinToken(node);
      const results = await Promise.all([enrollNode(node, token.token), enrollNode(node, token.token)]);
      const codes = results.map((r) => (r.result.ok ? 'OK' : r.result.codeName)).sort();
      expect(codes).toEqual(['OK', 'UNAUTHENTICATED']);
    });

    it('refuses a client that does not trust our CA (the server is verified)', async () => {
      const stranger = await createCertificateAuthority('stranger', 1);
      const { csr } = await createKeyAndCsr('node:x');
      const result = await callEnroll(endpoint, stranger.cert, { joinToken: `plj_${'A'.repeat(43)}`, node: 'x', csrPem: csr, agentVersion: 'v1' });
      expectCode(result, 'UNAVAILABLE');
    });
  });

  describe('Renew (mutual TLS)', () => {
    let node: string;
    let first: ClientIdentity;

    beforeAll(async () => {
      node = nodeName('renew');
      const token = await joinToken(node);
      const { result, key } = await enrollNode(node, token.token);
      if (!result.ok) throw new Error(`${result.codeName}: ${result.details}`);
      first = { cert: result.response.certificatePem, key };
    });

    const renewWith = async (identity: ClientIdentity | undefined, commonName = `node:${node}`) => {
      const { key, csr } = await createKeyAndCsr(commonName);
      const result = await callRenew(endpoint, caPem, csr, identity);
      return { result, identity: result.ok ? { cert: result.response.certificatePem, key } : undefined };
    };

    it('issues a new certificate for a new key to the holder of the current one', async () => {
      const { result, identity } = await renewWith(first);
      if (!result.ok || !identity) throw new Error(result.ok ? 'no identity' : `${result.codeName}: ${result.details}`);
      const renewed = new X509Certificate(identity.cert);
      expect(renewed.subject).toBe(`CN=node:${node}`);
      expect(renewed.verify(new X509Certificate(caPem).publicKey)).toBe(true);
      expect(renewed.checkPrivateKey(createPrivateKey(identity.key))).toBe(true);
      expect(renewed.serialNumber).not.toBe(new X509Certificate(first.cert).serialNumber);
      expect(result.response.nats?.durable).toBe(`agent-${node}`);
      expect(await enrollment(node)).toEqual({ serial: renewed.serialNumber.toLowerCase(), previous_serial: new X509Certificate(first.cert).serialNumber.toLowerCase() });

      // The previous certificate may retry (a lost answer); the one it replaced then may not.
      const retry = await renewWith(first);
      expectCode(retry.result, 'OK');
      const superseded = await renewWith(identity);
      expectCode(superseded.result, 'UNAUTHENTICATED');
      expect(superseded.result.ok ? '' : superseded.result.details).toMatch(/superseded/);
    });

    it('refuses a caller without a client certificate', async () => {
      const { result } = await renewWith(undefined);
      expectCode(result, 'UNAUTHENTICATED');
      expect(result.ok ? '' : result.details).toMatch(/client certificate/);
    });

    it('refuses a client certificate from another CA, even with the right name', async () => {
      const stranger = await createCertificateAuthority('Pressluft control plane CA', 1);
      const { key, csr } = await createKeyAndCsr(`node:${node}`);
      const forged = { cert: await signCsr(stranger, csr, { commonName: `node:${node}`, usage: 'client', validityDays: 1 }), key };
      expectCode((await renewWith(forged)).result, 'UNAUTHENTICATED');
    });

    it('refuses our own CA certificates that are not a node (PERMISSION_DENIED) or not enrolled', async () => {
      const ca = { cert: caPem, key: readFileSync(join(fx.pkiDir, 'ca-key.pem'), 'utf8') };
      const controlPlane = await issueCertificate(ca, { commonName: 'pressluft-control-plane', usage: 'client', validityDays: 1 });
      expectCode((await renewWith(controlPlane)).result, 'PERMISSION_DENIED');
      const unenrolled = await issueCertificate(ca, { commonName: `node:${nodeName('ghost')}`, usage: 'client', validityDays: 1 });
      expectCode((await renewWith(unenrolled)).result, 'PERMISSION_DENIED');
    });
  });

  it('never writes a join token into the audit log', async () => {
    const dump = JSON.stringify((await pgQuery(fx.database.url, 'SELECT * FROM audit_log')).rows);
    expect(dump).toContain(JOIN);
    for (const secret of secrets) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(createHash('sha256').update(secret).digest('hex'));
    }
  });
});

/*
 * The whole path on a nats-server with mutual TLS and verify_and_map (as tools/dev up runs it):
 * its certificate from `pki nats-server`, the control plane connecting with the client
 * certificate it issued itself, an enrollment that rewrites the authorization and reloads
 * nats-server (SIGHUP), and the node using exactly the settings and certificate it was given.
 */
describe('enrollment on a mutual-TLS NATS (control plane connects with its own certificate)', () => {
  let root: string;
  let nats: NatsService | undefined;
  let fx: ControlPlaneFixture | undefined;
  let authzFile: string;
  let caPem: string;
  let endpoint: string;
  let cpConnection: NatsConnection;

  const plane = (): ControlPlaneFixture => {
    if (!fx) throw new Error('the control plane did not start');
    return fx;
  };

  /** Enrolls `node` as an agent does (its own key and CSR, a fresh join token). */
  const enrollAgent = async (node: string): Promise<{ identity: ClientIdentity; settings: NodeNatsSettings }> => {
    const created = await api<JoinToken>(plane().plane.httpUrl, JOIN, { method: 'POST', token: plane().adminToken, body: { node } });
    expect(created.status).toBe(201);
    const { key, csr } = await createKeyAndCsr(`node:${node}`);
    const result = await callEnroll(endpoint, caPem, { joinToken: created.body.token, node, csrPem: csr, agentVersion: 'v1' });
    if (!result.ok) throw new Error(`${result.codeName}: ${result.details}`);
    if (!result.response.nats) throw new Error('no NATS settings');
    return { identity: { cert: result.response.certificatePem, key }, settings: result.response.nats };
  };

  /** The agent's NATS connection: its certificate, its inbox prefix. */
  const connectAgent = (identity: ClientIdentity, settings: NodeNatsSettings) =>
    connect({ servers: settings.url, inboxPrefix: settings.inboxPrefix, reconnect: false, timeout: 2000, tls: { ca: caPem, cert: identity.cert, key: identity.key } });

  /** Retried until nats-server's reload took the new certificate in. */
  const connectEnrolled = async (identity: ClientIdentity, settings: NodeNatsSettings): Promise<NatsConnection> => {
    for (let i = 0; i < 50; i++) {
      const nc = await connectAgent(identity, settings).catch(() => undefined);
      if (nc) return nc;
      await sleep(100);
    }
    throw new Error('the enrolled node could not connect');
  };

  /** Takes the node's commands from its durable. */
  const consumeCommands = async (nc: NatsConnection, settings: NodeNatsSettings): Promise<string[]> => {
    const got: string[] = [];
    for await (const message of await (await jetstream(nc).consumers.get(settings.stream, settings.durable)).fetch({ max_messages: 2, expires: 1500 })) {
      got.push(message.string());
      expect(await message.ackAck()).toBe(true);
    }
    return got;
  };

  /** Whether nats-server closed `nc` within 10 s. */
  const closedByServer = async (nc: NatsConnection): Promise<string> => Promise.race([nc.closed().then(() => 'closed'), sleep(10_000).then(() => 'still open')]);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pressluft-enroll-tls-'));
    authzFile = join(root, 'nats', 'authz.conf');
    const env = { PRESSLUFT_PKI_DIR: join(root, 'pki'), PRESSLUFT_NATS_AUTHZ_FILE: authzFile };
    await writeNatsServerPki(loadControlPlaneConfig({ ...env, PRESSLUFT_NATS_URL: 'tls://127.0.0.1:4222' }), parseNatsServerArgs(['--out', join(root, 'nats-tls')]), new Date());
    const file = (name: string) => readFileSync(join(root, 'nats-tls', name), 'utf8');
    nats = await NatsService.create(root, {
      tls: 'mutual',
      verifyAndMap: true,
      certificates: { caCert: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server-key.pem') },
      include: authzFile,
      pidFile: true,
    });
    fx = await startControlPlaneFixture({ grpc: true, env: { ...env, PRESSLUFT_NATS_URL: nats.url, PRESSLUFT_NATS_PID_FILE: nats.pidFile } });
    for (let i = 0; i < 100 && !fx.plane.app.get(NatsClient).connection(); i++) await sleep(50);
    const connection = fx.plane.app.get(NatsClient).connection();
    if (!connection) throw new Error('the control plane did not connect to the mutual-TLS NATS');
    cpConnection = connection;
    caPem = readFileSync(join(root, 'pki', 'ca.pem'), 'utf8');
    endpoint = `127.0.0.1:${fx.plane.app.get(EnrollmentGrpcServer).port}`;
  }, 60_000);

  afterAll(async () => {
    await fx?.stop();
    await nats?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('a freshly enrolled node consumes its commands and publishes its events with what Enroll returned', async () => {
    const node = 'tls-node';
    const { identity, settings } = await enrollAgent(node);
    expect(settings.url).toBe(nats?.url);
    expect(readFileSync(authzFile, 'utf8')).toContain(`urn:pressluft:node:${node}:certificate:`);

    // The control plane sends the node a command (as the outbox relay does).
    await jetstream(cpConnection).publish(settings.commandSubject, 'hello node', { msgID: 'tls-1' });

    const nc = await connectEnrolled(identity, settings);
    try {
      expect(await consumeCommands(nc, settings)).toEqual(['hello node']);
      const js = jetstream(nc);
      expect((await js.publish(`${settings.eventSubjectPrefix}.heartbeat`, 'alive')).stream).toBe(EVENT_STREAM);
      await expect(js.publish('pressluft.evt.other-node.heartbeat', 'forged', { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
    } finally {
      await nc.close();
    }
  });

  it('revokes a certificate at once when its node enrolls again and when its Node is deleted: cut off NATS, no reconnection, no renewal, no enrollment left', async () => {
    const node = 'revoked-node';
    const renewWith = async (identity: ClientIdentity) => callRenew(endpoint, caPem, (await createKeyAndCsr(`node:${node}`)).csr, identity);
    const first = await enrollAgent(node);
    const firstConnection = await connectEnrolled(first.identity, first.settings);
    await jetstream(cpConnection).publish(first.settings.commandSubject, 'command 1', { msgID: 'revoke-1' });
    expect(await consumeCommands(firstConnection, first.settings)).toEqual(['command 1']);

    // Enrolled again (a new key, as after a reinstall): the first certificate is revoked.
    const second = await enrollAgent(node);
    expect(await closedByServer(firstConnection)).toBe('closed');
    await expect(jetstream(firstConnection).publish(`${first.settings.eventSubjectPrefix}.heartbeat`, 'revoked')).rejects.toThrow();
    await expect(connectAgent(first.identity, first.settings)).rejects.toThrow(/Authorization Violation/);
    const superseded = await renewWith(first.identity);
    expectCode(superseded, 'UNAUTHENTICATED');

    // The second certificate is the node's now: it reads the command meant for the node and publishes.
    await jetstream(cpConnection).publish(second.settings.commandSubject, 'command 2', { msgID: 'revoke-2' });
    const secondConnection = await connectEnrolled(second.identity, second.settings);
    expect(await consumeCommands(secondConnection, second.settings)).toEqual(['command 2']);
    expect((await jetstream(secondConnection).publish(`${second.settings.eventSubjectPrefix}.heartbeat`, 'alive')).stream).toBe(EVENT_STREAM);

    // The Node deleted: its certificate is revoked as the deletion commits.
    const deleted = await api(plane().plane.httpUrl, `${V1}/nodes/${node}`, { method: 'DELETE', token: plane().adminToken });
    expect(deleted.status).toBe(200);
    expect(await closedByServer(secondConnection)).toBe('closed');
    await jetstream(cpConnection).publish(second.settings.commandSubject, 'command 3', { msgID: 'revoke-3' });
    await expect(connectAgent(second.identity, second.settings)).rejects.toThrow(/Authorization Violation/);
    expectCode(await renewWith(second.identity), 'PERMISSION_DENIED');
    expect((await pgQuery(plane().database.url, 'SELECT node FROM node_enrollments WHERE node = $1', [node])).rows).toEqual([]);
    expect(readFileSync(authzFile, 'utf8')).not.toContain(`urn:pressluft:node:${node}:`);
    // The command sent after the deletion waits undelivered.
    const info = await (await jetstreamManager(cpConnection)).consumers.info(COMMAND_STREAM, second.settings.durable);
    expect(info.num_pending).toBe(1);
  });
});
