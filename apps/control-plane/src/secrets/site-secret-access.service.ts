import { Inject, Injectable } from '@nestjs/common';
import { SITE_CREDENTIAL_FIELDS, siteSecretAccessRefusal, type SiteCredentialField } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import type { SiteSecretAccessRequest, SiteSecretAccessResponse } from '@pressluft/proto';
import { PressluftError } from '../common/errors.js';
import { EnrollmentService, type CallerInfo } from '../enrollment/enrollment.service.js';
import { LOGGER } from '../infra/tokens.js';
import { ResourceStore } from '../resources/resource.store.js';
import { answerNodeSecretCall } from './node-secret-call.js';
import { SiteSecrets } from './site.secrets.js';

const isField = (field: string): field is SiteCredentialField => (SITE_CREDENTIAL_FIELDS as readonly string[]).includes(field);

/**
 * NodeService.SiteSecretAccess: one of a site's write-only credentials for the calling node (its
 * client certificate names it), only for its own in-flight IssueCertificate of that site, and
 * only the field that command needs (libs/domain siteSecretAccessRefusal). One log line per
 * answer, never with the value.
 */
@Injectable()
export class SiteSecretAccessService {
  constructor(
    private readonly enrollment: EnrollmentService,
    private readonly resources: ResourceStore,
    private readonly secrets: SiteSecrets,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  access(request: SiteSecretAccessRequest, peerCertificate: Uint8Array | undefined, caller: CallerInfo): Promise<SiteSecretAccessResponse> {
    const { site, command, field } = request;
    return answerNodeSecretCall(this.enrollment, this.logger, peerCertificate, caller, {
      method: 'SiteSecretAccess',
      names: { site, command },
      answer: (node) => this.answer(node, request),
      handed: (node) => `site ${site}: ${field} handed to node ${node} for command ${command}`,
    });
  }

  private async answer(node: string, request: SiteSecretAccessRequest): Promise<SiteSecretAccessResponse> {
    const { site, command, field } = request;
    if (!isField(field)) throw new PressluftError('Invalid', `the request is invalid: field: must be one of ${SITE_CREDENTIAL_FIELDS.join(', ')}`, [{ field: 'field', message: `must be one of ${SITE_CREDENTIAL_FIELDS.join(', ')}` }]);
    const [found, object] = await Promise.all([this.resources.get('Command', command), this.resources.get('Site', site)]);
    const refusal = siteSecretAccessRefusal({ node, site, command, field }, found && { spec: found.spec, state: found.status.state }, object?.spec);
    if (refusal) throw new PressluftError(refusal.reason, `node ${node} may not have ${field} of site ${site}: ${refusal.message}`);
    const value = await this.secrets.field(site, field);
    if (value === undefined) throw new PressluftError('NotFound', `site ${site} has no ${field} stored; set spec.credentials.${field}`);
    return { value };
  }
}
