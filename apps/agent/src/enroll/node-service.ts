import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { failure } from '@pressluft/agent-runtime';
import { NodeServiceClient } from '@pressluft/proto';
import type { NodeIdentity } from './identity.js';

export const NODE_SERVICE_TIMEOUT_MS = 15_000;

/** gRPC codes that mean "not for you" (no retry helps): the rest means the control plane was not reached. */
const REFUSED = new Set<status>([status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.NOT_FOUND, status.FAILED_PRECONDITION, status.INVALID_ARGUMENT]);

/** How a refused and an unreachable call read (`details`: the control plane's words). */
export interface NodeServiceFailures {
  readonly refused: { readonly reason: string; readonly message: (details: string) => string };
  readonly unavailable: { readonly reason: string; readonly message: (details: string) => string };
}

type Callback<T> = (error: ServiceError | null, response: T) => void;

/**
 * One NodeService call for one command, over mutual TLS with this node's client certificate (the
 * enrollment endpoint), on its own channel closed afterwards. A refusal and an unreachable
 * control plane fail with the caller's reasons; the answer is only returned, never logged here.
 */
export async function callNodeService<T>(
  identity: NodeIdentity,
  endpoint: string,
  timeoutMs: number,
  call: (client: NodeServiceClient, metadata: Metadata, options: { deadline: Date }, callback: Callback<T>) => void,
  failures: NodeServiceFailures,
): Promise<T> {
  const channel = credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certificatePem));
  const client = new NodeServiceClient(endpoint, channel);
  try {
    return await new Promise<T>((resolve, reject) => {
      call(client, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => {
        if (!error) resolve(response);
        else if (REFUSED.has(error.code)) reject(failure(failures.refused.reason, failures.refused.message(error.details)));
        else reject(failure(failures.unavailable.reason, failures.unavailable.message(`${status[error.code] ?? error.code}: ${error.details}`)));
      });
    });
  } finally {
    client.close();
  }
}
