import { Inject, Injectable } from '@nestjs/common';
import { backupStoreAccessRefusal, validateName } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import type { BackupStoreAccessRequest, BackupStoreAccessResponse } from '@pressluft/proto';
import { PressluftError } from '../common/errors.js';
import { EnrollmentService, type CallerInfo } from '../enrollment/enrollment.service.js';
import { LOGGER } from '../infra/tokens.js';
import { ResourceStore } from '../resources/resource.store.js';
import { BackupStoreSecrets } from './backup-store.secrets.js';

/**
 * NodeService.BackupStoreAccess: a store's repository and credentials for the calling node (its
 * client certificate names it), only for its own in-flight BackupSite or RestoreSite naming that
 * store. One log line per answer, never with a secret.
 */
@Injectable()
export class BackupStoreAccessService {
  constructor(
    private readonly enrollment: EnrollmentService,
    private readonly resources: ResourceStore,
    private readonly secrets: BackupStoreSecrets,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async access(request: BackupStoreAccessRequest, peerCertificate: Uint8Array | undefined, caller: CallerInfo): Promise<BackupStoreAccessResponse> {
    let node: string | undefined;
    try {
      node = await this.enrollment.authenticateNode(peerCertificate, 'BackupStoreAccess');
      const response = await this.answer(node, request);
      this.logger.info({ node, store: request.store, command: request.command, peer: caller.peer }, `backup store ${request.store}: credentials handed to node ${node} for command ${request.command}`);
      return response;
    } catch (error) {
      if (error instanceof PressluftError) {
        this.logger.warn({ node, store: request.store.slice(0, 64), command: request.command.slice(0, 64), peer: caller.peer, reason: error.reason }, `backup store access refused: ${error.message}`);
      }
      throw error;
    }
  }

  private async answer(node: string, request: BackupStoreAccessRequest): Promise<BackupStoreAccessResponse> {
    const { store, command } = request;
    for (const [field, value] of [['store', store], ['command', command]] as const) {
      if (validateName(value, field)) throw new PressluftError('Invalid', `the request is invalid: ${field}: must be a resource name`, [{ field, message: 'must be a resource name' }]);
    }
    const found = await this.resources.get('Command', command);
    const refusal = backupStoreAccessRefusal({ node, store, command }, found && { spec: found.spec, state: found.status.state });
    if (refusal) throw new PressluftError('Forbidden', `node ${node} may not have backup store ${store}: ${refusal}`);
    if (!(await this.resources.get('BackupStore', store))) throw new PressluftError('NotFound', `backup store ${store} does not exist`);
    const access = await this.secrets.access(store);
    if (!access) throw new PressluftError('Conflict', `backup store ${store} has no credentials; set spec.credentials`);
    return {
      repository: access.repository,
      password: access.password,
      sshPrivateKey: access.sshPrivateKey ?? '',
      sshKnownHosts: access.sshKnownHosts ?? '',
      restUsername: access.restUsername ?? '',
      restPassword: access.restPassword ?? '',
    };
  }
}
