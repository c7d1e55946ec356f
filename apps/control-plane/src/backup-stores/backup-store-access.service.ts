import { Inject, Injectable } from '@nestjs/common';
import { backupStoreAccessRefusal } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import type { BackupStoreAccessRequest, BackupStoreAccessResponse } from '@pressluft/proto';
import { PressluftError } from '../common/errors.js';
import { EnrollmentService, type CallerInfo } from '../enrollment/enrollment.service.js';
import { LOGGER } from '../infra/tokens.js';
import { ResourceStore } from '../resources/resource.store.js';
import { answerNodeSecretCall } from '../secrets/node-secret-call.js';
import { BackupStoreSecrets } from './backup-store.secrets.js';

/**
 * NodeService.BackupStoreAccess: a store's repository and credentials for the calling node (its
 * client certificate names it), only for its own in-flight BackupSite, RestoreSite or CloneSite naming that
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

  access(request: BackupStoreAccessRequest, peerCertificate: Uint8Array | undefined, caller: CallerInfo): Promise<BackupStoreAccessResponse> {
    const { store, command } = request;
    return answerNodeSecretCall(this.enrollment, this.logger, peerCertificate, caller, {
      method: 'BackupStoreAccess',
      names: { store, command },
      answer: (node) => this.answer(node, request),
      handed: (node) => `backup store ${store}: credentials handed to node ${node} for command ${command}`,
    });
  }

  private async answer(node: string, request: BackupStoreAccessRequest): Promise<BackupStoreAccessResponse> {
    const { store, command } = request;
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
