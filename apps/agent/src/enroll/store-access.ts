import type { BackupStoreAccess, ResticStore } from '@pressluft/agent-runtime';
import type { NodeIdentity } from './identity.js';
import { callNodeService, NODE_SERVICE_TIMEOUT_MS } from './node-service.js';

/**
 * A BackupStore's repository and credentials, asked for one command over mutual TLS with this
 * node's client certificate (NodeService.BackupStoreAccess on the enrollment endpoint). The
 * answer is only returned, never logged or stored here.
 */
export class StoreAccessClient implements BackupStoreAccess {
  constructor(
    private readonly identity: NodeIdentity,
    private readonly endpoint: string,
    private readonly timeoutMs = NODE_SERVICE_TIMEOUT_MS,
  ) {}

  access(store: string, command: string): Promise<ResticStore> {
    return callNodeService<ResticStore>(this.identity, this.endpoint, this.timeoutMs, (client, metadata, options, callback) => client.backupStoreAccess({ store, command }, metadata, options, callback), {
      refused: { reason: 'BackupStoreAccessDenied', message: (details) => `the control plane refused backup store ${store} for command ${command}: ${details}` },
      unavailable: { reason: 'BackupStoreUnavailable', message: (details) => `backup store ${store}: the control plane could not be asked (${details})` },
    });
  }
}
