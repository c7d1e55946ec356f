import { TERMINAL_COMMAND_STATES, type CertificateAction, type CommandState } from '../command.js';
import type { ConditionStatus } from '../conditions.js';
import type { SitePhase } from '../site-lifecycle.js';
import type { CertificateStatus, InstalledCertificate, SiteTls } from '../site.js';

/** The site's condition about its certificate. */
export const CERTIFICATE_READY = 'CertificateReady';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * How issuance is paced: failures back off from `backoffBaseMs`, doubling to `backoffMaxMs`; a
 * rate-limited order waits at least `rateLimitedMinMs` (or the CA's Retry-After when longer); a
 * certificate is renewed two thirds into its lifetime; and no site is sent an issuance more often
 * than every `minIntervalMs`, whatever happens.
 */
export const CERTIFICATE_POLICY = {
  backoffBaseMs: MINUTE_MS,
  backoffMaxMs: 6 * HOUR_MS,
  rateLimitedMinMs: HOUR_MS,
  minIntervalMs: MINUTE_MS,
} as const;

/** The agent's reason for an ACME order the CA refused for its rate limits. */
export const ACME_RATE_LIMITED = 'AcmeRateLimited';

/** What the certificate planner needs to know of the site. */
export interface CertificateSiteView {
  readonly name: string;
  readonly phase: SitePhase;
  readonly deleting: boolean;
  readonly bound: boolean;
  /** The site's node is Ready (a command for a node that is away would only stall). */
  readonly nodeReady: boolean;
  /** The site's newest command is not finished (one mutation per site at a time). */
  readonly busy: boolean;
  readonly generation: number;
  readonly observedGeneration: number;
}

/** The IssueCertificate that status.certificate.command names. */
export interface CertificateCommandView {
  readonly name: string;
  readonly action: CertificateAction;
  readonly state: CommandState;
  readonly reason?: string;
  readonly message?: string;
  readonly retryAfterSeconds?: number;
  readonly certificate?: InstalledCertificate;
}

export interface CertificateObservation {
  readonly site: CertificateSiteView;
  readonly domains: readonly string[];
  /** spec.tls resolved (siteTls). */
  readonly tls: SiteTls;
  /** mode custom: sha256 (lowercase hex) of the leaf of spec.tls.custom.certificate; undefined when it cannot be read. */
  readonly customFingerprint: string | undefined;
  readonly status: CertificateStatus | undefined;
  /** The DNSReady condition's status (undefined: the site has none yet). */
  readonly dnsReady: ConditionStatus | undefined;
  /** The control plane has an ACME directory (PRESSLUFT_ACME_DIRECTORY_URL is not `none`). */
  readonly acmeConfigured: boolean;
  /** The command status.certificate.command names; undefined when it names none or the command is gone. */
  readonly command: CertificateCommandView | undefined;
  readonly now: Date;
}

export interface CertificateCondition {
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/**
 * The one next step for a site's certificate. `none`: nothing to write (a deleting site, the
 * site's own command in flight). `settle`: CertificateReady says `condition` (written only when
 * it says something else). `issue`: IssueCertificate beside the ACTIVE phase, status.certificate
 * naming it. `record`: the finished command's outcome becomes status.certificate, with an Event.
 * requeueAfterMs: look again then although nothing changes (renewal, end of a backoff).
 */
export type CertificatePlan =
  | { readonly type: 'none' }
  | { readonly type: 'settle'; readonly condition: CertificateCondition; readonly requeueAfterMs?: number }
  | { readonly type: 'issue'; readonly certificate: CertificateAction; readonly condition: CertificateCondition }
  | {
      readonly type: 'record';
      readonly status: CertificateStatus;
      readonly condition: CertificateCondition;
      readonly event: { readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly message: string };
    };

const NONE: CertificatePlan = { type: 'none' };

/** When a renewal is due: two thirds into the lifetime, and never sooner than the policy's interval after `now`. */
export function renewAt(certificate: Pick<InstalledCertificate, 'notBefore' | 'notAfter'>, now: Date): Date {
  const from = Date.parse(certificate.notBefore);
  const to = Date.parse(certificate.notAfter);
  return new Date(Math.max(from + ((to - from) * 2) / 3, now.getTime() + CERTIFICATE_POLICY.minIntervalMs));
}

/** How long after the `failures`-th consecutive failure the next attempt waits. */
export function retryDelayMs(failures: number, reason: string | undefined, retryAfterSeconds: number | undefined): number {
  const backoff = Math.min(CERTIFICATE_POLICY.backoffBaseMs * 2 ** Math.max(0, failures - 1), CERTIFICATE_POLICY.backoffMaxMs);
  const advised = (retryAfterSeconds ?? 0) * SECOND_MS;
  return Math.max(backoff, advised, reason === ACME_RATE_LIMITED ? CERTIFICATE_POLICY.rateLimitedMinMs : 0);
}

/**
 * The site's URL: https (the node's HTTPS port, left out when 443) once the installed
 * certificate covers the first domain and TLS is on; http otherwise.
 */
export function siteUrl(domains: readonly string[], installed: InstalledCertificate | undefined, mode: SiteTls['mode'], httpsPort: number): string | undefined {
  const first = domains[0];
  if (!first) return undefined;
  return mode !== 'off' && installed?.domains.includes(first) ? `https://${first}${httpsPort === 443 ? '' : `:${httpsPort}`}/` : `http://${first}/`;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && new Set(a).size === new Set([...a, ...b]).size;

export function planCertificate(observed: CertificateObservation): CertificatePlan {
  const { site, status, command } = observed;
  if (site.deleting) return NONE;
  if (status?.command) return command ? planCommand(observed, command) : recordFailure(observed, status.command, 'CommandNotFound', `${status.command} is gone`, undefined);
  if (site.phase !== 'ACTIVE' || !site.bound) {
    // Unknown until the site first converged (one write: the message names no phase); later the
    // condition stays as it was while the site deploys, restores, ...
    return site.observedGeneration === 0 ? settle('Unknown', 'SiteNotActive', `Site ${site.name} is not ACTIVE yet`) : NONE;
  }
  // A change of the spec is deployed first (its server names, TLS settings); the site's change wakes this again.
  // So does the node's return to Ready.
  if (site.busy || !site.nodeReady || site.generation > site.observedGeneration) return NONE;
  switch (observed.tls.mode) {
    case 'off':
      return status?.installed ? attempt(observed, 'remove', { status: 'False', reason: 'Disabled', message: 'removing the certificate (spec.tls.mode off)' }) : settle('False', 'Disabled', 'spec.tls.mode is off: HTTP only');
    case 'custom':
      return planCustom(observed);
    case 'acme':
      return planAcme(observed);
  }
}

function planCustom(observed: CertificateObservation): CertificatePlan {
  if (!observed.customFingerprint) return settle('False', 'InvalidCertificate', 'spec.tls.custom.certificate has no readable leaf certificate');
  const installed = observed.status?.installed;
  if (installed?.source === 'custom' && installed.fingerprintSha256 === observed.customFingerprint) {
    // The site's own certificate is renewed by its owner (a new chain in the spec), never by us.
    return serving(observed) ? settle('True', 'Installed', installedMessage(installed)) : settle('False', 'CertificateExpired', `the certificate of spec.tls.custom expired at ${installed.notAfter}`);
  }
  return attempt(observed, 'custom', { status: 'False', reason: 'Installing', message: 'installing the certificate of spec.tls.custom' });
}

function planAcme(observed: CertificateObservation): CertificatePlan {
  const { status, domains, now } = observed;
  if (!observed.acmeConfigured) return settle('False', 'AcmeNotConfigured', 'the control plane has no ACME directory (PRESSLUFT_ACME_DIRECTORY_URL is none)');
  const installed = serving(observed);
  const renewal = status?.renewAt ? Date.parse(status.renewAt) : Infinity;
  if (installed && now.getTime() < renewal) return settle('True', 'Issued', installedMessage(installed), renewal - now.getTime());
  // Renewing a certificate that still serves these domains: it stays Ready while the order runs.
  if (observed.tls.acme.challenge === 'http-01' && observed.dnsReady !== 'True') {
    return installed ? settle('True', 'Issued', `${installedMessage(installed)}; the renewal waits for DNS`) : settle('False', 'WaitingForDNS', `waiting for DNS: the domains do not point at the site's node yet (${domains.join(', ')})`);
  }
  return attempt(observed, 'acme', installed ? { status: 'True', reason: 'Renewing', message: `renewing: ${installedMessage(installed)}` } : { status: 'False', reason: 'Issuing', message: `ordering a certificate for ${domains.join(', ')}` });
}

/** An issuance, unless the backoff or the minimum interval says to wait. */
function attempt(observed: CertificateObservation, certificate: CertificateAction, condition: CertificateCondition): CertificatePlan {
  const { status, now } = observed;
  const next = Math.max(status?.nextAttemptAt ? Date.parse(status.nextAttemptAt) : -Infinity, status?.lastAttemptAt ? Date.parse(status.lastAttemptAt) + CERTIFICATE_POLICY.minIntervalMs : -Infinity);
  if (now.getTime() < next) {
    const at = new Date(next).toISOString();
    const error = status?.lastError;
    return error
      ? settle(condition.status, error.reason, `${error.message.slice(0, 512)}; next attempt at ${at}`, next - now.getTime())
      : settle(condition.status, condition.reason, `${condition.message}; next attempt at ${at}`, next - now.getTime());
  }
  return { type: 'issue', certificate, condition };
}

function planCommand(observed: CertificateObservation, command: CertificateCommandView): CertificatePlan {
  if (!TERMINAL_COMMAND_STATES.includes(command.state)) return NONE;
  if (command.state !== 'SUCCEEDED') {
    const reason = command.reason && command.reason !== 'StepFailed' ? command.reason : 'CertificateFailed';
    const how = command.state === 'REJECTED' ? 'was rejected by the node' : 'failed';
    return recordFailure(observed, command.name, reason, `${command.name} ${how}${command.message ? `: ${command.message}` : ''}`, command.retryAfterSeconds);
  }
  const { status, now } = observed;
  const base = { failures: 0, ...(status?.lastAttemptAt ? { lastAttemptAt: status.lastAttemptAt } : {}) };
  if (command.action === 'remove') {
    return {
      type: 'record',
      status: base,
      condition: observed.tls.mode === 'off' ? { status: 'False', reason: 'Disabled', message: 'spec.tls.mode is off: HTTP only' } : { status: 'False', reason: 'Removed', message: 'the certificate was removed' },
      event: { type: 'Normal', reason: 'CertificateRemoved', message: `${command.name}: the certificate was removed; the site serves HTTP only` },
    };
  }
  const installed = command.certificate;
  if (!installed) return recordFailure(observed, command.name, 'NoCertificateResult', `${command.name} succeeded without a well-formed certificate`, undefined);
  const reason = command.action === 'acme' ? 'Issued' : 'Installed';
  const message = installedMessage(installed);
  return {
    type: 'record',
    status: { ...base, installed, ...(command.action === 'acme' ? { renewAt: renewAt(installed, now).toISOString() } : {}) },
    condition: { status: 'True', reason, message },
    event: { type: 'Normal', reason: `Certificate${reason}`, message: `${command.name}: ${message}` },
  };
}

function recordFailure(observed: CertificateObservation, name: string, reason: string, message: string, retryAfterSeconds: number | undefined): CertificatePlan {
  const { status, now } = observed;
  const failures = (status?.failures ?? 0) + 1;
  const nextAttemptAt = new Date(now.getTime() + retryDelayMs(failures, reason, retryAfterSeconds)).toISOString();
  const text = message.slice(0, 1024);
  const { command: _command, ...rest } = status ?? { failures: 0 };
  return {
    type: 'record',
    status: { ...rest, failures, nextAttemptAt, lastError: { reason, message: text } },
    // A renewal that failed leaves the previous certificate serving: Ready until it expires.
    condition: { status: serving(observed) ? 'True' : 'False', reason, message: text },
    event: { type: 'Warning', reason: 'CertificateFailed', message: `${text.slice(0, 900)} (failure ${failures}; next attempt at ${nextAttemptAt})` },
  };
}

/** The installed certificate when it is what the spec asks for and still valid: the site serves HTTPS with it. */
function serving(observed: CertificateObservation): InstalledCertificate | undefined {
  const installed = observed.status?.installed;
  const { mode } = observed.tls;
  if (!installed || mode === 'off' || installed.source !== mode || observed.now.getTime() >= Date.parse(installed.notAfter)) return undefined;
  const wanted = mode === 'acme' ? sameSet(installed.domains, observed.domains) : installed.fingerprintSha256 === observed.customFingerprint;
  return wanted ? installed : undefined;
}

function installedMessage(installed: InstalledCertificate): string {
  return `certificate for ${installed.domains.join(', ')} valid until ${installed.notAfter}`;
}

function settle(status: ConditionStatus, reason: string, message: string, requeueAfterMs?: number): CertificatePlan {
  return { type: 'settle', condition: { status, reason, message }, ...(requeueAfterMs !== undefined ? { requeueAfterMs: Math.max(SECOND_MS, requeueAfterMs) } : {}) };
}
