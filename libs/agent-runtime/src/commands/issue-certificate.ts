import type { HostCertificateRequest } from '../site-operations.js';
import { failure } from '../failure.js';
import type { CommandContext, CommandHandler } from './command-handler.js';
import type { PayloadOf } from './command-handler.js';
import { elapsed, releasesOf, siteState } from './site-state.js';

/**
 * IssueCertificate: an ACME order made on the node (its key never leaves it; a dns-01 order's
 * provider token comes over the agent's mutual-TLS channel for this command, never on the bus), a
 * custom certificate (its key fetched the same way), or removal. The site keeps serving
 * throughout; what the node left (its server block) is reported as the site's new fingerprints.
 */
export const issueCertificate: CommandHandler<'issueCertificate'> = async (payload, context) => {
  const request = await hostRequest(payload, context);
  const outcome = await context.host.certify(request, context.report);
  const site = await siteState(context, await releasesOf(context), undefined);
  const what = outcome.certificate ? `certificate for ${outcome.certificate.domains.join(', ')} until ${outcome.certificate.notAfter}` : 'certificate removed';
  return { message: `${what} (${elapsed(context)})`, site, ...(outcome.certificate ? { certificate: outcome.certificate } : {}) };
};

async function hostRequest(payload: PayloadOf['issueCertificate'], context: CommandContext): Promise<HostCertificateRequest> {
  const site = payload.site;
  if (!site) throw failure('InvalidCommand', 'IssueCertificate carries no site');
  const source = payload.source;
  switch (source?.$case) {
    case 'acme': {
      const order = source.value;
      const dnsApiToken = order.challenge === 'dns-01' ? await context.siteSecrets.access(context.ref.site, 'dnsApiToken', context.ref.id) : undefined;
      return { site, source: 'acme', order, ...(dnsApiToken !== undefined ? { dnsApiToken } : {}) };
    }
    case 'custom':
      return { site, source: 'custom', certificatePem: source.value.certificatePem, privateKeyPem: await context.siteSecrets.access(context.ref.site, 'tlsPrivateKey', context.ref.id) };
    case 'remove':
      return { site, source: 'remove' };
    case undefined:
      throw failure('InvalidCommand', 'IssueCertificate names no source (acme, custom or remove)');
  }
}
