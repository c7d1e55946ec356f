import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { COMMAND_STREAM, commandSubject, createCertificateAuthority, createKeyAndCsr, ensureStreams, EVENT_STREAM, eventSubject, newSerialNumber, type PemPair, signCsr } from '@pressluft/platform';
import { NatsService, sleep } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControlPlaneConfig, type ControlPlaneConfig } from '../config/control-plane.config.js';
import { natsTlsOptions } from '../infra/nats.client.js';
import { loadOrCreateCa } from '../pki/pki.store.js';
import { parseNatsServerArgs, writeNatsServerPki } from '../pki/nats-server.command.js';
import { controlPlaneNatsUsers, ensureNodeConsumer } from './nats-authorization.service.js';
import { applyNatsAuthorization } from './nats-authz.file.js';
import { nodeBus, nodeCertificateUri, renderNatsAuthorization } from './nats-authz.js';

/*
 * The per-node NATS authorization on a real nats-server 2.9 with mutual TLS and verify_and_map:
 * the server's certificate and the authorization include file come from the control plane's own
 * code (the `pki nats-server` command and renderNatsAuthorization), the clients' certificates
 * from its CA (the control plane's self-issued one, nodes' from CSRs as Enroll signs them).
 */

const A = 'node-a';
const B = 'node-b';
const C = 'node-c';

interface Identity {
  readonly cert: string;
  readonly key: string;
  readonly serial: string;
}

interface NodeClient {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /** Server errors this connection reported (permission violations arrive asynchronously). */
  readonly errors: string[];
}

describe('NATS per-node authorization (real nats-server, mutual TLS, verify_and_map)', () => {
  let root: string;
  let config: ControlPlaneConfig;
  let ca: PemPair;
  let service: NatsService | undefined;
  const nats = (): NatsService => {
    if (!service) throw new Error('nats-server did not start');
    return service;
  };
  let cp: NatsConnection;
  const identities = new Map<string, Identity>();
  const clients: NatsConnection[] = [];

  const authzFile = () => join(root, 'authz', 'nats-authz.conf');

  /** A node's certificate the way Enroll makes it: the node's own key and CSR, signed by the CA. */
  const enrolledIdentity = async (node: string, caPair = ca): Promise<Identity> => {
    const { key, csr } = await createKeyAndCsr(`node:${node}`);
    const serial = newSerialNumber();
    return { key, serial, cert: await signCsr(caPair, csr, { commonName: `node:${node}`, usage: 'client', validityDays: 90, serialNumber: serial, uris: [nodeCertificateUri(node, serial)] }) };
  };

  const connectAs = async (identity: Identity | undefined, inboxPrefix?: string): Promise<NatsConnection> => {
    const nc = await connect({
      servers: nats().url,
      reconnect: false,
      timeout: 3000,
      ...(inboxPrefix ? { inboxPrefix } : {}),
      tls: { ca: ca.cert, ...(identity ? { cert: identity.cert, key: identity.key } : {}) },
    });
    clients.push(nc);
    return nc;
  };

  const nodeClient = async (node: string): Promise<NodeClient> => {
    const identity = identities.get(node);
    if (!identity) throw new Error(`no identity for ${node}`);
    const nc = await connectAs(identity, nodeBus(node).inboxPrefix);
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error.message));
    })();
    return { nc, js: jetstream(nc), errors };
  };

  const storedEvents = async (subject: string): Promise<number> => {
    const info = await (await jetstreamManager(cp)).streams.info(EVENT_STREAM, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  };

  /** The authorization for these nodes' certificates in `identities` (as sync renders node_enrollments). */
  const writeAuthz = (nodes: string[]) =>
    applyNatsAuthorization(
      authzFile(),
      renderNatsAuthorization({ controlPlaneUsers: controlPlaneNatsUsers(config), nodes: nodes.map((node) => ({ node, serials: [identities.get(node)?.serial ?? ''] })) }),
      service?.pidFile,
    );

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pressluft-natsauthz-'));
    config = loadControlPlaneConfig({
      PRESSLUFT_PKI_DIR: join(root, 'pki'),
      PRESSLUFT_NATS_URL: 'tls://127.0.0.1:4222',
      PRESSLUFT_NATS_AUTHZ_FILE: join(root, 'authz', 'nats-authz.conf'),
    });
    // What tools/dev up runs before nats-server starts: server certificate and a first authorization file.
    const written = await writeNatsServerPki(config, parseNatsServerArgs(['--out', join(root, 'nats-tls')]), new Date());
    expect(written).toContain(authzFile());
    expect(readFileSync(authzFile(), 'utf8')).toContain('{ user: "CN=pressluft-control-plane" }');
    ca = await loadOrCreateCa(config.pkiDir);
    for (const node of [A, B, C]) identities.set(node, await enrolledIdentity(node));
    expect(writeAuthz([A, B])).toBe(true);

    service = await NatsService.create(root, {
      tls: 'mutual',
      verifyAndMap: true,
      certificates: {
        caCert: readFileSync(join(root, 'nats-tls', 'ca.pem'), 'utf8'),
        serverCert: readFileSync(join(root, 'nats-tls', 'server.pem'), 'utf8'),
        serverKey: readFileSync(join(root, 'nats-tls', 'server-key.pem'), 'utf8'),
      },
      include: authzFile(),
      pidFile: true,
    });
    // The control plane, as it connects itself: its self-issued certificate (tls:// without files).
    const tls = await natsTlsOptions(config, new Date());
    cp = await connect({ servers: nats().url, reconnect: false, timeout: 3000, ...(tls ? { tls } : {}) });
    await ensureStreams(cp);
    await ensureNodeConsumer(cp, A);
    await ensureNodeConsumer(cp, B);
    const js = jetstream(cp);
    await js.publish(commandSubject(A), 'command for A #1', { msgID: 'a-1' });
    await js.publish(commandSubject(B), 'command for B #1', { msgID: 'b-1' });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((nc) => nc.close()));
    await cp?.close().catch(() => undefined);
    await service?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('lets node A pull its own commands, extend and acknowledge them', async () => {
    const a = await nodeClient(A);
    const consumer = await a.js.consumers.get(COMMAND_STREAM, `agent-${A}`);
    const received: string[] = [];
    for await (const message of await consumer.fetch({ max_messages: 4, expires: 1500 })) {
      received.push(message.string());
      message.working();
      expect(await message.ackAck()).toBe(true);
    }
    expect(received).toEqual(['command for A #1']);

    // The long-running form the agent uses (consume with idle heartbeats) works too.
    await jetstream(cp).publish(commandSubject(A), 'command for A #2', { msgID: 'a-2' });
    const messages = await consumer.consume({ max_messages: 4, idle_heartbeat: 500, expires: 2000 });
    for await (const message of messages) {
      received.push(message.string());
      message.ack();
      break;
    }
    await messages.close();
    expect(received).toEqual(['command for A #1', 'command for A #2']);
    expect(a.errors).toEqual([]);
    const info = await (await jetstreamManager(cp)).consumers.info(COMMAND_STREAM, `agent-${A}`);
    expect(info.num_pending + info.num_ack_pending).toBe(0);
  });

  it('lets node A publish its own events (acked by JetStream)', async () => {
    const a = await nodeClient(A);
    for (const kind of ['heartbeat', 'command', 'report'] as const) {
      const ack = await a.js.publish(eventSubject(A, kind), `${kind} from A`);
      expect(ack.stream).toBe(EVENT_STREAM);
      expect(ack.duplicate).toBe(false);
    }
    expect(await storedEvents(eventSubject(A, 'heartbeat'))).toBe(1);
    expect(a.errors).toEqual([]);
  });

  it("does not let node A read node B's commands", async () => {
    const a = await nodeClient(A);
    await expect(a.js.consumers.get(COMMAND_STREAM, `agent-${B}`)).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.CONSUMER\.INFO\.PRESSLUFT_COMMANDS\.agent-node-b"/);
    await expect(a.nc.request(`$JS.API.CONSUMER.MSG.NEXT.${COMMAND_STREAM}.agent-${B}`, JSON.stringify({ batch: 1, expires: 500_000_000 }), { timeout: 2000 })).rejects.toThrow(
      /Permissions Violation/,
    );
    // Nor take it over: no consumer may be created, changed or deleted by a node.
    for (const subject of [
      `$JS.API.CONSUMER.CREATE.${COMMAND_STREAM}`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${COMMAND_STREAM}.agent-${B}`,
      `$JS.API.CONSUMER.DELETE.${COMMAND_STREAM}.agent-${B}`,
      `$JS.API.STREAM.INFO.${COMMAND_STREAM}`,
      `$JS.API.STREAM.MSG.GET.${COMMAND_STREAM}`,
      `$JS.ACK.${COMMAND_STREAM}.agent-${B}.1.1.1.1.0`,
    ]) {
      await expect(a.nc.request(subject, '{}', { timeout: 2000 }), subject).rejects.toThrow(/Permissions Violation/);
    }
    // Nor listen on B's command subject, B's inbox, or everything.
    for (const subject of [commandSubject(B), 'pressluft.cmd.>', `${nodeBus(B).inboxPrefix}.>`, '>', `${COMMAND_STREAM}`]) {
      const sub = a.nc.subscribe(subject);
      let failure = '';
      try {
        for await (const _message of sub) break;
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
      expect(failure, subject).toMatch(/Permissions Violation for Subscription/);
    }
    // B's command is still there for B, undelivered.
    const info = await (await jetstreamManager(cp)).consumers.info(COMMAND_STREAM, `agent-${B}`);
    expect(info.num_pending).toBe(1);
    expect(info.delivered.consumer_seq).toBe(0);

    const b = await nodeClient(B);
    const got: string[] = [];
    for await (const message of await (await b.js.consumers.get(COMMAND_STREAM, `agent-${B}`)).fetch({ max_messages: 4, expires: 1500 })) {
      got.push(message.string());
      message.ack();
    }
    expect(got).toEqual(['command for B #1']);
  });

  it("does not let node A publish node B's events (nothing lands in the stream)", async () => {
    const a = await nodeClient(A);
    await expect(a.js.publish(eventSubject(B, 'heartbeat'), 'forged heartbeat', { timeout: 2000 })).rejects.toThrow(/Permissions Violation for Publish to "pressluft\.evt\.node-b\.heartbeat"/);
    a.nc.publish(eventSubject(B, 'command'), 'forged command event');
    a.nc.publish(commandSubject(B), 'forged command');
    a.nc.publish('pressluft.evt.node-b', 'no kind');
    await a.nc.flush();
    for (let i = 0; i < 20 && a.errors.length < 3; i++) await sleep(50);
    expect(a.errors.join('\n')).toContain('Permissions Violation for Publish to "pressluft.evt.node-b.command"');
    expect(a.errors.join('\n')).toContain('Permissions Violation for Publish to "pressluft.cmd.node-b"');
    for (const kind of ['heartbeat', 'command', 'report'] as const) expect(await storedEvents(eventSubject(B, kind))).toBe(0);
    const commands = await (await jetstreamManager(cp)).streams.info(COMMAND_STREAM, { subjects_filter: commandSubject(B) });
    expect(commands.state.subjects?.[commandSubject(B)]).toBe(1);
  });

  it('refuses clients the authorization does not name', async () => {
    // Signed by our CA but not enrolled (not in the file).
    await expect(connectAs(identities.get(C))).rejects.toThrow(/Authorization Violation|closed|disconnect/i);
    // Enrolled name, foreign CA (the TLS handshake fails).
    const stranger = await createCertificateAuthority('Pressluft control plane CA', 1);
    await expect(connectAs(await enrolledIdentity(A, stranger))).rejects.toThrow();
    // No client certificate at all.
    await expect(connectAs(undefined)).rejects.toThrow();
  });

  it('takes effect on reload: a newly enrolled node can connect, a removed one is cut off', async () => {
    const b = await nodeClient(B);
    // As Enroll does: the node's consumer first, then the authorization and the reload (right
    // after a reload, nats-server 2.9 may briefly answer JetStream API requests with no responders).
    await ensureNodeConsumer(cp, C);
    expect(writeAuthz([A, B, C])).toBe(true);
    // Rendering the same set again changes nothing (no reload).
    expect(writeAuthz([C, B, A])).toBe(false);
    let c: NodeClient | undefined;
    for (let i = 0; i < 50 && !c; i++) {
      c = await nodeClient(C).catch(() => undefined);
      if (!c) await sleep(100);
    }
    if (!c) throw new Error(`node C could not connect after the reload:\n${readFileSync(nats().logFile, 'utf8').slice(-2000)}`);
    expect((await c.js.publish(eventSubject(C, 'heartbeat'), 'hello')).stream).toBe(EVENT_STREAM);

    // B is no longer enrolled: its open connection is closed by the reload, and it cannot come back.
    expect(writeAuthz([A, C])).toBe(true);
    for (let i = 0; i < 50 && !b.nc.isClosed(); i++) await sleep(100);
    expect(b.nc.isClosed()).toBe(true);
    await expect(connectAs(identities.get(B), nodeBus(B).inboxPrefix)).rejects.toThrow();
  });

  it('cuts off a superseded certificate of a node on reload (enrolled again), while the new one works', async () => {
    const old = await nodeClient(A);
    const bystander = await nodeClient(C);
    const oldIdentity = identities.get(A);
    const oldClosed = old.nc.closed();
    identities.set(A, await enrolledIdentity(A));
    expect(writeAuthz([A, C])).toBe(true);
    expect(await Promise.race([oldClosed.then(() => 'closed'), sleep(5000).then(() => 'still open')])).toBe('closed');
    // Only the superseded certificate's connection: node C's stays.
    expect(bystander.nc.isClosed()).toBe(false);
    expect((await bystander.js.publish(eventSubject(C, 'heartbeat'), 'still here')).stream).toBe(EVENT_STREAM);
    // nats-server closed it (no user maps to the old certificate): nothing more goes through it, and it cannot come back.
    await expect(old.js.publish(eventSubject(A, 'heartbeat'), 'from the old certificate', { timeout: 2000 })).rejects.toThrow();
    await expect(connectAs(oldIdentity, nodeBus(A).inboxPrefix)).rejects.toThrow(/Authorization Violation/);
    const fresh = await nodeClient(A);
    expect((await fresh.js.publish(eventSubject(A, 'heartbeat'), 'from the new certificate')).stream).toBe(EVENT_STREAM);
  });
});
