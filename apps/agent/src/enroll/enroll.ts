import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { createKeyAndCsr, verifyClientCertificate } from '@pressluft/platform';
import { EnrollmentServiceClient, type EnrollResponse } from '@pressluft/proto';
import { certificateMatchesKey, NODE_NAME_PATTERN, renewalDue, saveIdentity, type NodeIdentity, type NodeNatsSettings } from './identity.js';

const DEFAULT_TIMEOUT_MS = 15_000;
const ENDPOINT_PATTERN = /^[A-Za-z0-9.-]+:[0-9]{1,5}$|^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$/;

/** A refused or failed enrollment call: the gRPC code and the control plane's message (never a secret). */
export class EnrollmentFailed extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(`enrollment failed (${status[code] ?? code}): ${details}`);
    this.name = 'EnrollmentFailed';
  }
}

export interface EnrollOptions {
  /** The control plane's enrollment gRPC address, host:port. */
  readonly endpoint: string;
  /** The control plane CA (PEM): the only trust anchor for the server's certificate. */
  readonly caPem: string;
  /** The one-time join token (from POST /auth/v1/jointokens). Sent to the control plane only. */
  readonly joinToken: string;
  readonly node: string;
  /** Where the identity is kept (identity.json, 0600). */
  readonly stateDir: string;
  readonly agentVersion: string;
  readonly timeoutMs?: number;
}

function checkEndpoint(endpoint: string): void {
  if (!ENDPOINT_PATTERN.test(endpoint)) throw new Error(`the enrollment endpoint must be host:port, got ${JSON.stringify(endpoint.slice(0, 100))}`);
}

/**
 * First enrollment: makes a new EC P-256 key here, sends only its certificate request with the
 * join token over TLS (the server verified against `caPem`), checks the answer (our key, issued
 * by the CA, CN node:<node>) and stores the identity atomically in stateDir.
 */
export async function enroll(options: EnrollOptions): Promise<NodeIdentity> {
  if (!NODE_NAME_PATTERN.test(options.node)) throw new Error(`"${options.node.slice(0, 64)}" is not a valid node name`);
  checkEndpoint(options.endpoint);
  const { key, csr } = await createKeyAndCsr(`node:${options.node}`);
  const client = new EnrollmentServiceClient(options.endpoint, credentials.createSsl(Buffer.from(options.caPem)));
  try {
    const response = await call<EnrollResponse>(options.timeoutMs, (metadata, deadline, done) =>
      client.enroll({ joinToken: options.joinToken, node: options.node, csrPem: csr, agentVersion: options.agentVersion }, metadata, { deadline }, done),
    );
    return await accept(response, { stateDir: options.stateDir, node: options.node, keyPem: key });
  } finally {
    client.close();
  }
}

/**
 * Renews now: a new key and request, sent over mutual TLS with the current certificate; the new
 * identity replaces the old one atomically.
 */
export async function renew(identity: NodeIdentity, endpoint: string, options: { timeoutMs?: number } = {}): Promise<NodeIdentity> {
  checkEndpoint(endpoint);
  const { key, csr } = await createKeyAndCsr(`node:${identity.node}`);
  const channel: ChannelCredentials = credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certificatePem));
  const client = new EnrollmentServiceClient(endpoint, channel);
  try {
    const response = await call<EnrollResponse>(options.timeoutMs, (metadata, deadline, done) => client.renew({ csrPem: csr }, metadata, { deadline }, done));
    return await accept(response, { stateDir: identity.stateDir, node: identity.node, keyPem: key });
  } finally {
    client.close();
  }
}

/** Renews over mutual TLS when less than a third of the certificate's validity is left at `now`. */
export async function renewIfDue(identity: NodeIdentity, endpoint: string, now: Date, options: { timeoutMs?: number } = {}): Promise<{ renewed: boolean; identity: NodeIdentity }> {
  if (!renewalDue(identity.certificatePem, now)) return { renewed: false, identity };
  return { renewed: true, identity: await renew(identity, endpoint, options) };
}

type Done<T> = (error: ServiceError | null, response: T) => void;

function call<T>(timeoutMs: number | undefined, start: (metadata: Metadata, deadline: Date, done: Done<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start(new Metadata(), new Date(Date.now() + (timeoutMs ?? DEFAULT_TIMEOUT_MS)), (error, response) => {
      if (error) reject(new EnrollmentFailed(error.code, error.details));
      else resolve(response);
    });
  });
}

/** Checks the control plane's answer against what we asked for, then stores it. */
async function accept(response: EnrollResponse, mine: { stateDir: string; node: string; keyPem: string }): Promise<NodeIdentity> {
  const { certificatePem, caPem, nats } = response;
  if (!certificatePem || !caPem || !nats) throw new Error('the enrollment answer is incomplete');
  const verified = await verifyClientCertificate(caPem, certificatePem, new Date());
  if (verified.commonName !== `node:${mine.node}`) throw new Error(`the certificate names ${verified.commonName}, not node:${mine.node}`);
  if (!certificateMatchesKey(certificatePem, mine.keyPem)) throw new Error('the certificate is not for the key this node made');
  const settings: NodeNatsSettings = { ...nats };
  for (const [field, value] of Object.entries(settings)) {
    if (typeof value !== 'string' || value === '') throw new Error(`the enrollment answer has no nats.${field}`);
  }
  const identity: NodeIdentity = {
    stateDir: mine.stateDir,
    node: mine.node,
    keyPem: mine.keyPem,
    certificatePem,
    caPem,
    expiresAt: verified.notAfter.toISOString(),
    nats: settings,
  };
  saveIdentity(identity);
  return identity;
}
