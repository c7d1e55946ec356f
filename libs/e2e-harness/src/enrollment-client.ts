import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { EnrollmentServiceClient, NodeServiceClient, type BackupStoreAccessResponse, type EnrollRequest, type EnrollResponse, type RenewResponse, type SiteSecretAccessRequest, type SiteSecretAccessResponse } from '@pressluft/proto';

/** What a call answered: the response, or the gRPC status code and message. */
export type CallResult<T> = { readonly ok: true; readonly response: T } | { readonly ok: false; readonly code: status; readonly codeName: string; readonly details: string };

export interface ClientIdentity {
  readonly cert: string;
  readonly key: string;
}

function settle<T>(resolve: (result: CallResult<T>) => void, client: { close(): void }) {
  return (error: ServiceError | null, response: T) => {
    client.close();
    resolve(error ? { ok: false, code: error.code, codeName: status[error.code] ?? String(error.code), details: error.details } : { ok: true, response });
  };
}

function clientFor<C>(
  endpoint: string,
  caPem: string,
  identity: ClientIdentity | undefined,
  Client: new (address: string, creds: ChannelCredentials) => C,
): C {
  const creds = identity
    ? credentials.createSsl(Buffer.from(caPem), Buffer.from(identity.key), Buffer.from(identity.cert))
    : credentials.createSsl(Buffer.from(caPem));
  return new Client(endpoint, creds);
}

const deadline = () => ({ deadline: new Date(Date.now() + 15_000) });

/** Enroll over TLS (the server verified against `caPem`), optionally presenting a client certificate. */
export function callEnroll(endpoint: string, caPem: string, request: EnrollRequest, identity?: ClientIdentity): Promise<CallResult<EnrollResponse>> {
  const client = clientFor(endpoint, caPem, identity, EnrollmentServiceClient);
  return new Promise((resolve) => client.enroll(request, new Metadata(), deadline(), settle(resolve, client)));
}

/** Renew over TLS; mutual TLS when `identity` is given. */
export function callRenew(endpoint: string, caPem: string, csrPem: string, identity?: ClientIdentity): Promise<CallResult<RenewResponse>> {
  const client = clientFor(endpoint, caPem, identity, EnrollmentServiceClient);
  return new Promise((resolve) => client.renew({ csrPem }, new Metadata(), deadline(), settle(resolve, client)));
}

/** NodeService.BackupStoreAccess; mutual TLS when `identity` (a node's certificate) is given. */
export function callBackupStoreAccess(endpoint: string, caPem: string, request: { store: string; command: string }, identity?: ClientIdentity): Promise<CallResult<BackupStoreAccessResponse>> {
  const client = clientFor(endpoint, caPem, identity, NodeServiceClient);
  return new Promise((resolve) => client.backupStoreAccess(request, new Metadata(), deadline(), settle(resolve, client)));
}

/** NodeService.SiteSecretAccess; mutual TLS when `identity` (a node's certificate) is given. */
export function callSiteSecretAccess(endpoint: string, caPem: string, request: SiteSecretAccessRequest, identity?: ClientIdentity): Promise<CallResult<SiteSecretAccessResponse>> {
  const client = clientFor(endpoint, caPem, identity, NodeServiceClient);
  return new Promise((resolve) => client.siteSecretAccess(request, new Metadata(), deadline(), settle(resolve, client)));
}
