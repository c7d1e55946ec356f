import { failure, type SiteSecretAccess, type SiteSecretField } from '@pressluft/agent-runtime';
import type { NodeIdentity } from './identity.js';
import { callNodeService, NODE_SERVICE_TIMEOUT_MS } from './node-service.js';

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
    private readonly timeoutMs = NODE_SERVICE_TIMEOUT_MS,
  ) {}

  async access(site: string, field: SiteSecretField, command: string): Promise<string> {
    const response = await callNodeService<{ value: string }>(this.identity, this.endpoint, this.timeoutMs, (client, metadata, options, callback) => client.siteSecretAccess({ site, field, command }, metadata, options, callback), {
      refused: { reason: 'SiteSecretAccessDenied', message: (details) => `the control plane refused ${field} of site ${site} for command ${command}: ${details}` },
      unavailable: { reason: 'SiteSecretUnavailable', message: (details) => `${field} of site ${site}: the control plane could not be asked (${details})` },
    });
    if (response.value === '') throw failure('SiteSecretMissing', `site ${site} has no ${field} in spec.credentials`);
    return response.value;
  }
}
