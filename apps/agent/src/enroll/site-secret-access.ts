import { credentials, Metadata, status } from '@grpc/grpc-js';
import { failure, type SiteSecretAccess, type SiteSecretField } from '@pressluft/agent-runtime';
import { NodeServiceClient } from '@pressluft/proto';
import type { NodeIdentity } from './identity.js';

const TIMEOUT_MS = 15_000;

/** gRPC codes that mean "not for you" (no retry helps): the rest means the control plane was not reached. */
const REFUSED = new Set<status>([status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.NOT_FOUND, status.FAILED_PRECONDITION, status.INVALID_ARGUMENT]);

/**
 * A site's write-only credential (a custom certificate's private key, a DNS provider's API
 * token), asked for one command over mutual TLS with this node's client certificate
 * (NodeService.SiteSecretAccess on the enrollment endpoint). The value is only returned, never
 * logged, stored or put into a message here.
 */
export class SiteSecretAccessClient implements SiteSecretAccess {
  constructor(
    private readonly identity: NodeIdentity,
    private readonly endpoint: string,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  async access(site: string, field: SiteSecretField, command: string): Promise<string> {
    const channel = credentials.createSsl(Buffer.from(this.identity.caPem), Buffer.from(this.identity.keyPem), Buffer.from(this.identity.certificatePem));
    const client = new NodeServiceClient(this.endpoint, channel);
    try {
      return await new Promise<string>((resolve, reject) => {
        client.siteSecretAccess({ site, field, command }, new Metadata(), { deadline: new Date(Date.now() + this.timeoutMs) }, (error, response) => {
          if (!error) {
            if (response.value === '') reject(failure('SiteSecretMissing', `site ${site} has no ${field} in spec.credentials`));
            else resolve(response.value);
          } else if (REFUSED.has(error.code)) reject(failure('SiteSecretAccessDenied', `the control plane refused ${field} of site ${site} for command ${command}: ${error.details}`));
          else reject(failure('SiteSecretUnavailable', `${field} of site ${site}: the control plane could not be asked (${status[error.code] ?? error.code}: ${error.details})`));
        });
      });
    } finally {
      client.close();
    }
  }
}
