import { Inject, Injectable } from '@nestjs/common';
import { validateManifest, validateName, validateStatus, type FieldError, type Resource } from '@pressluft/domain';
import { CsrError, newSerialNumber, signCsr, verifyClientCertificate, type Logger, type PemPair, type VerifiedCertificate } from '@pressluft/platform';
import type { EnrollRequest, EnrollResponse, RenewRequest, RenewResponse } from '@pressluft/proto';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { PressluftError } from '../common/errors.js';
import { recordEvent } from '../events/event.recorder.js';
import { NatsClient } from '../infra/nats.client.js';
import { CLOCK, CONFIG, LOGGER, type Clock } from '../infra/tokens.js';
import { NodeEnrollmentRow } from '../persistence/entities.js';
import { loadOrCreateCa } from '../pki/pki.store.js';
import { ResourceStore, type ResourceTransaction } from '../resources/resource.store.js';
import { JoinTokenRefused, JoinTokenService } from './join-token.service.js';
import { ensureNodeConsumer, NatsAuthorization } from './nats-authorization.service.js';
import { nodeBus, nodeCertificateUri, nodeCommonName } from './nats-authz.js';

/** Node client certificates: 90 days (agents renew when less than a third is left). */
export const NODE_CERT_DAYS = 90;
const AGENT_VERSION_PATTERN = /^[\x21-\x7e]{1,64}$/;
const NODE_CN_PATTERN = /^node:(.+)$/;

/** Where the caller came from, for the log (never a token). */
export interface CallerInfo {
  readonly peer: string;
}

function invalid(causes: FieldError[]): PressluftError {
  return new PressluftError('Invalid', `the request is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
}

/**
 * Node enrollment (the gRPC service's logic; errors are PressluftErrors, mapped to gRPC codes
 * in enrollment.grpc.ts). Enroll trades a one-time join token and a CSR for a client
 * certificate; everything it changes happens in one transaction: the token is consumed, the
 * Node resource created if missing, the enrollment recorded, the node's durable consumer created
 * and the NATS authorization rewritten. If any of it fails, nothing is kept and the token stays
 * usable. Enrolling again revokes the node's earlier certificates (NATS cuts them off, Renew
 * refuses them). Renew trades a valid client certificate of an enrolled node for a new one.
 */
@Injectable()
export class EnrollmentService {
  private caPromise: Promise<PemPair> | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly tokens: JoinTokenService,
    private readonly authz: NatsAuthorization,
    private readonly nats: NatsClient,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async enroll(request: EnrollRequest, caller: CallerInfo): Promise<EnrollResponse> {
    const { node, csrPem, agentVersion, joinToken } = request;
    const causes: FieldError[] = [];
    const nameError = validateName(node, 'node');
    if (nameError) causes.push(nameError);
    if (!csrPem) causes.push({ field: 'csr_pem', message: 'is required' });
    if (!AGENT_VERSION_PATTERN.test(agentVersion)) causes.push({ field: 'agent_version', message: 'must be 1-64 printable ASCII characters without spaces' });
    if (causes.length > 0) throw invalid(causes);
    if (!joinToken) throw new PressluftError('Unauthorized', 'a join token is required');

    const ca = await this.ca();
    const connection = this.nats.connection();
    if (!connection || connection.isClosed()) throw new PressluftError('ServiceUnavailable', 'the message bus is not reachable yet; try again');
    const now = this.clock.now();

    const issued = await this.store.transaction(async (tx) => {
      try {
        await this.tokens.consume(tx.manager, joinToken, node, now);
      } catch (error) {
        if (!(error instanceof JoinTokenRefused)) throw error;
        this.logger.warn({ node, refusal: error.refusal, peer: caller.peer }, 'enrollment refused: join token not valid');
        throw new PressluftError('Unauthorized', 'the join token is not valid for this node (unknown, used, revoked or expired)');
      }
      const certificate = await this.sign(ca, csrPem, node, now);
      const resource = await this.ensureNode(tx, node, now);
      await tx.manager
        .createQueryBuilder()
        .insert()
        .into(NodeEnrollmentRow)
        .values({ node, serial: certificate.serialNumber, previousSerial: null, notAfter: certificate.notAfter, agentVersion, enrolledAt: now, renewedAt: null })
        .orUpdate(['serial', 'previous_serial', 'not_after', 'agent_version', 'enrolled_at', 'renewed_at'], ['node'])
        .execute();
      await recordEvent(tx, resource, 'Normal', 'Enrolled', `Agent ${agentVersion} enrolled; its client certificate is valid until ${certificate.notAfter.toISOString()}`, now);
      await this.prepareBus(connection, node);
      await this.syncAuthorization(node, tx);
      return certificate;
    });
    this.logger.info(
      { node, subject: nodeCommonName(node), serial: issued.serialNumber, expiresAt: issued.notAfter.toISOString(), agentVersion, peer: caller.peer },
      'node enrolled',
    );
    return this.response(issued, ca);
  }

  /** `peerCertificate`: the DER client certificate the TLS layer verified (undefined: none presented). */
  async renew(request: RenewRequest, peerCertificate: Uint8Array | undefined, caller: CallerInfo): Promise<RenewResponse> {
    const ca = await this.ca();
    const now = this.clock.now();
    const { node, presented } = await this.presentedNode(ca, peerCertificate, now, 'Renew');
    if (!request.csrPem) throw invalid([{ field: 'csr_pem', message: 'is required' }]);

    const issued = await this.store.transaction(async (tx) => {
      const repository = tx.manager.getRepository(NodeEnrollmentRow);
      const enrollment = await repository.createQueryBuilder('e').setLock('pessimistic_write').where('e.node = :node', { node }).getOne();
      if (!enrollment) throw new PressluftError('Forbidden', `node "${node}" is not enrolled`);
      if (presented.serialNumber !== enrollment.serial && presented.serialNumber !== enrollment.previousSerial) {
        throw new PressluftError('Unauthorized', 'this certificate was superseded by a newer enrollment; enroll again with a new join token');
      }
      if (!(await tx.get('Node', node))) throw new PressluftError('Forbidden', `node "${node}" no longer exists`);
      const certificate = await this.sign(ca, request.csrPem, node, now);
      await repository.update(
        { node },
        { serial: certificate.serialNumber, previousSerial: presented.serialNumber, notAfter: certificate.notAfter, renewedAt: now },
      );
      await this.syncAuthorization(node, tx);
      return certificate;
    });
    this.logger.info(
      { node, subject: nodeCommonName(node), serial: issued.serialNumber, previousSerial: presented.serialNumber, expiresAt: issued.notAfter.toISOString(), peer: caller.peer },
      'node certificate renewed',
    );
    return this.response(issued, ca);
  }

  /**
   * The node whose current (or just superseded) client certificate the TLS layer verified: for
   * calls an enrolled node makes over mutual TLS (NodeService). `what` names the call in refusals.
   */
  async authenticateNode(peerCertificate: Uint8Array | undefined, what: string): Promise<string> {
    const { node, presented } = await this.presentedNode(await this.ca(), peerCertificate, this.clock.now(), what);
    const enrollment = await this.store.transaction((tx) => tx.manager.getRepository(NodeEnrollmentRow).findOneBy({ node }));
    if (!enrollment) throw new PressluftError('Forbidden', `node "${node}" is not enrolled`);
    if (presented.serialNumber !== enrollment.serial && presented.serialNumber !== enrollment.previousSerial) {
      throw new PressluftError('Unauthorized', 'this certificate was superseded by a newer enrollment; enroll again with a new join token');
    }
    return node;
  }

  /** The presented certificate, verified against our CA at `now`, and the node it names (CN node:<name>). */
  private async presentedNode(ca: PemPair, peerCertificate: Uint8Array | undefined, now: Date, what: string): Promise<{ node: string; presented: VerifiedCertificate }> {
    if (!peerCertificate) throw new PressluftError('Unauthorized', `${what} requires the node's current client certificate (mutual TLS)`);
    let presented: VerifiedCertificate;
    try {
      presented = await verifyClientCertificate(ca.cert, peerCertificate, now);
    } catch (error) {
      throw new PressluftError('Unauthorized', `the client certificate is not accepted: ${error instanceof Error ? error.message : 'invalid'}`);
    }
    const node = NODE_CN_PATTERN.exec(presented.commonName)?.[1];
    if (node === undefined || validateName(node)) throw new PressluftError('Forbidden', `only a node certificate (CN node:<name>) may call ${what}`);
    return { node, presented };
  }

  private ca(): Promise<PemPair> {
    this.caPromise ??= loadOrCreateCa(this.config.pkiDir).catch((error: unknown) => {
      this.caPromise = undefined;
      throw error;
    });
    return this.caPromise;
  }

  private async sign(ca: PemPair, csrPem: string, node: string, now: Date): Promise<VerifiedCertificate & { pem: string }> {
    let pem: string;
    try {
      const serialNumber = newSerialNumber();
      pem = await signCsr(ca, csrPem, { commonName: nodeCommonName(node), usage: 'client', validityDays: NODE_CERT_DAYS, serialNumber, uris: [nodeCertificateUri(node, serialNumber)] });
    } catch (error) {
      if (error instanceof CsrError) throw invalid([{ field: 'csr_pem', message: error.message }]);
      throw error;
    }
    return { ...(await verifyClientCertificate(ca.cert, pem, now)), pem };
  }

  /** The Node resource, created through the resource store (change log, Event) when missing. */
  private async ensureNode(tx: ResourceTransaction, node: string, now: Date): Promise<Resource> {
    const existing = await tx.get('Node', node, { lock: true });
    if (existing) {
      if (existing.metadata.deletionTimestamp) throw new PressluftError('Conflict', `node "${node}" is being deleted; it cannot enroll`);
      return existing;
    }
    const manifest = validateManifest('Node', { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: node }, spec: { provider: 'static' } }, 'Strict');
    const status = validateStatus('Node', {});
    if (!manifest.ok || !status.ok) throw new Error('the default Node manifest does not validate');
    const created = await tx.create(
      {
        kind: 'Node',
        name: node,
        labels: manifest.value.labels,
        annotations: manifest.value.annotations,
        finalizers: manifest.value.finalizers ?? [],
        spec: manifest.value.spec,
        status: status.value,
        generation: 1,
      },
      now,
    );
    if (!created) throw new PressluftError('Conflict', `node "${node}" was created concurrently; try again`);
    await recordEvent(tx, created, 'Normal', 'Created', `Node ${node} created (generation 1) by its enrollment`, now);
    return created;
  }

  /** The node's durable consumer, before the transaction commits. */
  private async prepareBus(connection: NonNullable<ReturnType<NatsClient['connection']>>, node: string): Promise<void> {
    try {
      await ensureNodeConsumer(connection, node);
    } catch (error) {
      this.logger.error({ err: error, node }, 'enrollment: the node consumer could not be created');
      throw new PressluftError('ServiceUnavailable', 'the message bus could not be prepared for this node; try again');
    }
  }

  /** The node's certificates as NATS users (the new one in, superseded ones out), before the transaction commits. */
  private async syncAuthorization(node: string, tx: ResourceTransaction): Promise<void> {
    try {
      await this.authz.sync(tx.manager);
    } catch (error) {
      this.logger.error({ err: error, node }, 'enrollment: the NATS authorization could not be updated');
      throw new PressluftError('ServiceUnavailable', 'the NATS authorization could not be updated; try again');
    }
  }

  private response(certificate: VerifiedCertificate & { pem: string }, ca: PemPair): EnrollResponse {
    const node = NODE_CN_PATTERN.exec(certificate.commonName)?.[1] ?? '';
    const bus = nodeBus(node);
    return {
      certificatePem: certificate.pem,
      caPem: ca.cert,
      expiresAt: certificate.notAfter.toISOString(),
      nats: {
        url: this.config.enrollment.natsAgentUrl,
        stream: bus.stream,
        durable: bus.durable,
        commandSubject: bus.commandSubject,
        eventSubjectPrefix: bus.eventSubjectPrefix,
        inboxPrefix: bus.inboxPrefix,
      },
    };
  }
}
