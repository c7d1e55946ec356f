import { IN_FLIGHT_COMMAND_STATES } from './backup-store-access.js';
import type { CommandOperation, CommandSpec, CommandState } from './command.js';
import type { FieldError } from './names.js';
import { SITE_CREDENTIAL_FIELDS, siteTls, type SiteCredentialField, type SiteCredentials, type SiteSpec } from './site.js';

/** A site's stored write-only credentials (never "": a cleared field is absent). */
export type StoredSiteCredentials = Partial<Record<SiteCredentialField, string>>;

/**
 * A write's spec.credentials applied to the stored ones, field by field: a field given replaces
 * the stored one, a field absent keeps it, "" removes it.
 */
export function mergeSiteCredentials(stored: StoredSiteCredentials, given: SiteCredentials): StoredSiteCredentials {
  const merged: StoredSiteCredentials = {};
  for (const field of SITE_CREDENTIAL_FIELDS) {
    const value = given[field] ?? stored[field];
    if (value) merged[field] = value;
  }
  return merged;
}

/** The stored fields, in the schema's order (status.credentials.fields). */
export function storedSiteCredentialFields(stored: StoredSiteCredentials): SiteCredentialField[] {
  return SITE_CREDENTIAL_FIELDS.filter((field) => stored[field] !== undefined);
}

/**
 * The credential a site's spec.tls needs: custom, its certificate's key; acme by dns-01, the DNS
 * provider's token; otherwise none.
 */
export function requiredSiteCredential(spec: Pick<SiteSpec, 'tls'>): SiteCredentialField | undefined {
  const tls = siteTls(spec);
  if (tls.mode === 'custom') return 'tlsPrivateKey';
  if (tls.mode === 'acme' && tls.acme.challenge === 'dns-01') return 'dnsApiToken';
  return undefined;
}

/** A write refused because spec.tls needs a credential that is neither stored nor given (422 naming it). */
export function missingSiteCredential(spec: Pick<SiteSpec, 'tls'>, stored: readonly SiteCredentialField[]): FieldError | undefined {
  const required = requiredSiteCredential(spec);
  if (!required || stored.includes(required)) return undefined;
  const why = required === 'tlsPrivateKey' ? 'spec.tls.mode is custom' : 'spec.tls.acme.challenge is dns-01';
  return { field: `spec.credentials.${required}`, message: `is required because ${why}; it is not stored, so the write must give it` };
}

/**
 * The credential an IssueCertificate needs from the control plane: custom, the site's key; acme
 * by dns-01 (the site's spec now), the DNS token. An http-01 order or a removal needs none.
 */
export function issueCertificateCredential(command: Pick<CommandSpec, 'certificate'>, site: Pick<SiteSpec, 'tls'>): SiteCredentialField | undefined {
  if (command.certificate === 'custom') return 'tlsPrivateKey';
  if (command.certificate === 'acme' && requiredSiteCredential(site) === 'dnsApiToken') return 'dnsApiToken';
  return undefined;
}

/** Why a node may not have a site's credential: the command does not allow it, or the site is gone. */
export interface SiteSecretRefusal {
  readonly reason: 'Forbidden' | 'NotFound';
  readonly message: string;
}

/** The commands that build a release from git: while in flight, the node may have the site's gitToken. */
const GIT_TOKEN_OPERATIONS: readonly CommandOperation[] = ['ProvisionSite', 'DeploySite', 'CloneSite'];

/** The credential a command needs: an IssueCertificate its own (above); a release build from an https repository the token. */
function commandCredential(command: Pick<CommandSpec, 'operation' | 'certificate'>, site: Pick<SiteSpec, 'tls' | 'code'>): SiteCredentialField | undefined {
  if (command.operation === 'IssueCertificate') return issueCertificateCredential(command, site);
  return GIT_TOKEN_OPERATIONS.includes(command.operation) && site.code?.git.url.startsWith('https://') ? 'gitToken' : undefined;
}

/**
 * Whether a node may have one of a site's credentials for a command (NodeService.SiteSecretAccess):
 * only its own command of that site, while in flight, and only the field that command needs
 * (an IssueCertificate its key or DNS token; a ProvisionSite, DeploySite or CloneSite of a site
 * with an https repository its gitToken). The refusal (its message for the node's log and ours,
 * never a secret), or undefined.
 */
export function siteSecretAccessRefusal(
  request: { readonly node: string; readonly site: string; readonly command: string; readonly field: string },
  command: { readonly spec: CommandSpec; readonly state: CommandState } | undefined,
  site: Pick<SiteSpec, 'tls' | 'code'> | undefined,
): SiteSecretRefusal | undefined {
  const forbidden = (message: string): SiteSecretRefusal => ({ reason: 'Forbidden', message });
  if (!command) return forbidden(`command ${request.command} does not exist`);
  const { spec, state } = command;
  if (spec.node !== request.node) return forbidden(`command ${request.command} is not for node ${request.node}`);
  if (spec.site !== request.site) return forbidden(`command ${request.command} is not for site ${request.site}`);
  const operations: readonly CommandOperation[] = request.field === 'gitToken' ? GIT_TOKEN_OPERATIONS : ['IssueCertificate'];
  if (!operations.includes(spec.operation)) return forbidden(`command ${request.command} is ${/^[AEIOU]/.test(spec.operation) ? 'an' : 'a'} ${spec.operation}, not ${operations.length === 1 ? 'an IssueCertificate' : 'a ProvisionSite, DeploySite or CloneSite'}`);
  if (!IN_FLIGHT_COMMAND_STATES.includes(state)) return forbidden(`command ${request.command} is ${state}, no longer in flight`);
  if (!site) return { reason: 'NotFound', message: `site ${request.site} does not exist` };
  const needed = commandCredential(spec, site);
  if (needed !== request.field) return forbidden(`command ${request.command} needs ${needed ? `only ${needed}` : 'no site credential'}, not ${request.field}`);
  return undefined;
}
