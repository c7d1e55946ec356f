import type { HostCertificateOutcome, HostCertificateRequest, StepReporter } from '@pressluft/agent-runtime';
import { failure } from '@pressluft/agent-runtime';
import type { HostContext } from '../site-support.js';

/** IssueCertificate on this node (contract placeholder: the operation is being built). */
export function certify(_ctx: HostContext, request: HostCertificateRequest, _report: StepReporter): Promise<HostCertificateOutcome> {
  return Promise.reject(failure('TlsUnavailable', `site ${request.site.name}: this agent cannot install certificates yet`));
}
