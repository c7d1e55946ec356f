import { experimental, Server, status, type StatusObject, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import { EnrollmentServiceService, NodeServiceService, type EnrollmentServiceServer, type NodeServiceServer } from '@pressluft/proto';
import { BackupStoreAccessService } from '../backup-stores/backup-store-access.service.js';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { PressluftError, type ErrorReason } from '../common/errors.js';
import { CLOCK, CONFIG, LOGGER, type Clock } from '../infra/tokens.js';
import { loadOrCreateServingPki } from '../pki/pki.store.js';
import { SiteSecretAccessService } from '../secrets/site-secret-access.service.js';
import { EnrollmentService } from './enrollment.service.js';

/** The one mapping from domain error reasons to gRPC status codes. */
const GRPC_CODE: Readonly<Record<ErrorReason, status>> = {
  BadRequest: status.INVALID_ARGUMENT,
  Invalid: status.INVALID_ARGUMENT,
  RequestEntityTooLarge: status.INVALID_ARGUMENT,
  UnsupportedMediaType: status.INVALID_ARGUMENT,
  Unauthorized: status.UNAUTHENTICATED,
  Forbidden: status.PERMISSION_DENIED,
  NotFound: status.NOT_FOUND,
  MethodNotAllowed: status.UNIMPLEMENTED,
  NotAcceptable: status.INVALID_ARGUMENT,
  AlreadyExists: status.ALREADY_EXISTS,
  Conflict: status.FAILED_PRECONDITION,
  Gone: status.NOT_FOUND,
  Expired: status.FAILED_PRECONDITION,
  TooManyRequests: status.RESOURCE_EXHAUSTED,
  InternalError: status.INTERNAL,
  ServiceUnavailable: status.UNAVAILABLE,
};

/** Requests are a CSR and a few short strings; answers a certificate, a store's credentials or a site's key. */
const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * A fixed identity and CA for the gRPC credentials. grpc-js subscribes to the provider before it
 * registers the server's watcher, so the values are delivered on the next microtask (an answer
 * inside the subscription would reach nobody).
 */
function staticProvider(identity: { cert: string; key: string } | undefined, caCert: string | undefined): experimental.CertificateProvider {
  return {
    addCaCertificateListener: (listener) => queueMicrotask(() => listener(caCert ? { caCertificate: Buffer.from(caCert) } : null)),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) =>
      queueMicrotask(() => listener(identity ? { certificate: Buffer.from(identity.cert), privateKey: Buffer.from(identity.key) } : null)),
    removeIdentityCertificateListener: () => undefined,
  };
}

/** The DER client certificate the TLS layer verified against our CA; undefined when none was presented. */
function peerCertificate(call: ServerUnaryCall<unknown, unknown>): Uint8Array | undefined {
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  return raw ? new Uint8Array(raw) : undefined;
}

/**
 * The enrollment gRPC server (PRESSLUFT_GRPC_PORT): TLS with the control plane's serving
 * certificate; a client certificate is requested but not required (Enroll has none yet). The
 * TLS layer verifies a presented certificate against our CA, and grpc-js hands it to Renew and
 * to NodeService (what an enrolled node asks for) through getAuthContext() only when that succeeded.
 */
@Injectable()
export class EnrollmentGrpcServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | undefined;
  private boundPort: number | undefined;

  constructor(
    private readonly enrollment: EnrollmentService,
    private readonly stores: BackupStoreAccessService,
    private readonly siteSecrets: SiteSecretAccessService,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The bound port (useful with PRESSLUFT_GRPC_PORT=0); undefined while not listening. */
  get port(): number | undefined {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    const grpc = this.config.enrollment.grpc;
    if (!grpc) return;
    const pki = await loadOrCreateServingPki(this.config.pkiDir, this.clock.now());
    const credentials = experimental.createCertificateProviderServerCredentials(staticProvider(pki.serving, undefined), staticProvider(undefined, pki.ca.cert), false);
    const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES });
    const implementation: EnrollmentServiceServer = {
      enroll: (call, callback) => this.answer(call, callback, () => this.enrollment.enroll(call.request, { peer: call.getPeer() })),
      renew: (call, callback) =>
        this.answer(call, callback, () => this.enrollment.renew(call.request, peerCertificate(call), { peer: call.getPeer() })),
    };
    server.addService(EnrollmentServiceService, implementation);
    const nodeService: NodeServiceServer = {
      backupStoreAccess: (call, callback) => this.answer(call, callback, () => this.stores.access(call.request, peerCertificate(call), { peer: call.getPeer() })),
      siteSecretAccess: (call, callback) => this.answer(call, callback, () => this.siteSecrets.access(call.request, peerCertificate(call), { peer: call.getPeer() })),
    };
    server.addService(NodeServiceService, nodeService);
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${grpc.host}:${grpc.port}`, credentials, (error, port) => (error ? reject(error) : resolve(port)));
    });
    this.server = server;
    this.logger.info({ address: `${grpc.host}:${this.boundPort}` }, 'enrollment gRPC server listening');
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.boundPort = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private answer<Req, Res>(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>, work: () => Promise<Res>): void {
    work().then(
      (response) => callback(null, response),
      (error: unknown) => callback(this.toGrpcError(error, call.getPath())),
    );
  }

  private toGrpcError(error: unknown, path: string): Partial<StatusObject> {
    if (error instanceof PressluftError) return { code: GRPC_CODE[error.reason], details: error.message };
    this.logger.error({ err: error, path }, 'enrollment call failed unexpectedly');
    return { code: status.INTERNAL, details: 'an internal error occurred; see the control plane log' };
  }
}
