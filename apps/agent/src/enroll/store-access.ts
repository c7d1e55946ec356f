import { credentials, Metadata, status } from '@grpc/grpc-js';
import { failure, type BackupStoreAccess, type ResticStore } from '@pressluft/agent-runtime';
import { NodeServiceClient } from '@pressluft/proto';
import type { NodeIdentity } from './identity.js';

const TIMEOUT_MS = 15_000;

/** gRPC codes that mean "not for you" (no retry helps): the rest means the control plane was not reached. */
const REFUSED = new Set<status>([status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.NOT_FOUND, status.FAILED_PRECONDITION, status.INVALID_ARGUMENT]);

/**
 * A BackupStore's repository and credentials, asked for one command over mutual TLS with this
 * node's client certificate (NodeService.BackupStoreAccess on the enrollment endpoint). The
 * answer is only returned, never logged or stored here.
 */
export class StoreAccessClient implements BackupStoreAccess {
  constructor(
    private readonly identity: NodeIdentity,
    private readonly endpoint: string,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  async access(store: string, command: string): Promise<ResticStore> {
    const channel = credentials.createSsl(Buffer.from(this.identity.caPem), Buffer.from(this.identity.keyPem), Buffer.from(this.identity.certificatePem));
    const client = new NodeServiceClient(this.endpoint, channel);
    try {
      return await new Promise<ResticStore>((resolve, reject) => {
        client.backupStoreAccess({ store, command }, new Metadata(), { deadline: new Date(Date.now() + this.timeoutMs) }, (error, response) => {
          if (!error) resolve(response);
          else if (REFUSED.has(error.code)) reject(failure('BackupStoreAccessDenied', `the control plane refused backup store ${store} for command ${command}: ${error.details}`));
          else reject(failure('BackupStoreUnavailable', `backup store ${store}: the control plane could not be asked (${status[error.code] ?? error.code}: ${error.details})`));
        });
      });
    } finally {
      client.close();
    }
  }
}
