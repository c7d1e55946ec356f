import { describe, expect, it } from 'vitest';
import { COMMAND_STATES, type CertificateAction, type CommandState } from '../command.js';
import type { ConditionStatus } from '../conditions.js';
import { SITE_PHASES, type SitePhase } from '../site-lifecycle.js';
import { siteTlsSchema, type CertificateStatus, type InstalledCertificate } from '../site.js';
import {
  CERTIFICATE_POLICY,
  planCertificate,
  renewAt,
  retryDelayMs,
  siteUrl,
  type CertificateCommandView,
  type CertificateCondition,
  type CertificateObservation,
  type CertificatePlan,
} from './certificate.planner.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();
const DOMAINS = ['shop.example.test', 'www.shop.example.test'];
const FINGERPRINT = 'ab'.repeat(32);

function certificate(more: Partial<InstalledCertificate> = {}): InstalledCertificate {
  return { source: 'acme', domains: [...DOMAINS], issuer: 'CN=Test CA', serialNumber: '0a', fingerprintSha256: 'cd'.repeat(32), notBefore: at(-30 * DAY), notAfter: at(60 * DAY), ocspStapling: false, ...more };
}

interface Given {
  phase?: SitePhase;
  deleting?: boolean;
  bound?: boolean;
  busy?: boolean;
  nodeReady?: boolean;
  pendingDeploy?: boolean;
  /** The site has not converged yet (observedGeneration 0). */
  fresh?: boolean;
  tls?: Record<string, unknown>;
  domains?: string[];
  customFingerprint?: string;
  status?: Partial<CertificateStatus>;
  dnsReady?: ConditionStatus;
  acmeConfigured?: boolean;
  command?: Partial<CertificateCommandView> & { state: CommandState };
}

function observe(given: Given = {}): CertificateObservation {
  return {
    site: { name: 'shop', phase: given.phase ?? 'ACTIVE', deleting: given.deleting ?? false, bound: given.bound ?? true, nodeReady: given.nodeReady ?? true, busy: given.busy ?? false, generation: given.pendingDeploy ? 3 : 2, observedGeneration: given.fresh ? 0 : 2 },
    domains: given.domains ?? DOMAINS,
    tls: siteTlsSchema.parse(given.tls ?? {}),
    customFingerprint: given.customFingerprint,
    status: given.status ? { failures: 0, ...given.status } : undefined,
    dnsReady: 'dnsReady' in given ? given.dnsReady : 'True',
    acmeConfigured: given.acmeConfigured ?? true,
    command: given.command ? { name: 'shop-4', action: 'acme', ...given.command } : undefined,
    now: NOW,
  };
}

const issued = (renewIn = 30 * DAY) => ({ installed: certificate(), renewAt: at(renewIn) });
const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

describe('planCertificate: what to do', () => {
  it.each<[string, Given, { type: CertificatePlan['type']; certificate?: CertificateAction; condition?: Partial<CertificateCondition>; requeueAfterMs?: number }]>([
    ['a deleting site: nothing', { deleting: true, status: { command: 'shop-4' }, command: { state: 'SUCCEEDED' } }, { type: 'none' }],
    ['before the site is ACTIVE: Unknown', { phase: 'PROVISIONING', fresh: true }, { type: 'settle', condition: { status: 'Unknown', reason: 'SiteNotActive', message: 'Site shop is not ACTIVE yet' } }],
    ['not bound yet: Unknown', { phase: 'PENDING', bound: false, fresh: true }, { type: 'settle', condition: { status: 'Unknown', reason: 'SiteNotActive' } }],
    ['a deploying site keeps its condition', { phase: 'DEPLOYING' }, { type: 'none' }],
    ['a deploying site with a certificate keeps its condition', { phase: 'DEPLOYING', status: issued() }, { type: 'none' }],
    ['a busy site: nothing is issued', { busy: true }, { type: 'none' }],
    ['its node is not Ready: nothing is issued', { nodeReady: false }, { type: 'none' }],
    ['a spec change not deployed yet: the deploy goes first', { pendingDeploy: true }, { type: 'none' }],
    ['ACTIVE, idle, DNS ready, no certificate: issue acme', {}, { type: 'issue', certificate: 'acme', condition: { status: 'False', reason: 'Issuing' } }],
    ['http-01 waits for DNS', { dnsReady: 'False' }, { type: 'settle', condition: { status: 'False', reason: 'WaitingForDNS' } }],
    ['http-01 waits for a DNS check not made yet', { dnsReady: undefined }, { type: 'settle', condition: { status: 'False', reason: 'WaitingForDNS' } }],
    ['dns-01 does not wait for DNS', { dnsReady: 'False', tls: { acme: { challenge: 'dns-01', dns: { provider: 'cloudflare' } } } }, { type: 'issue', certificate: 'acme' }],
    ['ACME not configured', { acmeConfigured: false }, { type: 'settle', condition: { status: 'False', reason: 'AcmeNotConfigured' } }],
    ['installed, matching, not due: Ready until the renewal', { status: issued() }, { type: 'settle', condition: { status: 'True', reason: 'Issued' }, requeueAfterMs: 30 * DAY }],
    ['the same domains in another order are the same set', { status: issued(), domains: [...DOMAINS].reverse() }, { type: 'settle', condition: { status: 'True', reason: 'Issued' } }],
    ['renewal due: issue, still Ready', { status: issued(-MIN) }, { type: 'issue', certificate: 'acme', condition: { status: 'True', reason: 'Renewing' } }],
    ['renewal due but DNS gone: stays Ready, waits', { status: issued(-MIN), dnsReady: 'False' }, { type: 'settle', condition: { status: 'True', reason: 'Issued' } }],
    ['domains changed: reissue', { status: issued(), domains: ['shop.example.test'] }, { type: 'issue', certificate: 'acme', condition: { status: 'False', reason: 'Issuing' } }],
    ['a custom certificate installed, mode acme now: issue acme', { status: { installed: certificate({ source: 'custom' }) } }, { type: 'issue', certificate: 'acme' }],
    [
      'in backoff: waits with the last error until nextAttemptAt',
      { status: { failures: 2, lastAttemptAt: at(-5 * MIN), nextAttemptAt: at(10 * MIN), lastError: { reason: 'AcmeChallengeFailed', message: 'connection refused' } } },
      { type: 'settle', condition: { status: 'False', reason: 'AcmeChallengeFailed' }, requeueAfterMs: 10 * MIN },
    ],
    ['backoff over: issue', { status: { failures: 2, lastAttemptAt: at(-20 * MIN), nextAttemptAt: at(-MIN), lastError: { reason: 'AcmeChallengeFailed', message: 'x' } } }, { type: 'issue', certificate: 'acme' }],
    ['never twice within a minute', { status: { failures: 0, lastAttemptAt: at(-30_000) } }, { type: 'settle', requeueAfterMs: 30_000 }],
    ['mode off, nothing installed: Disabled', { tls: { mode: 'off' } }, { type: 'settle', condition: { status: 'False', reason: 'Disabled' } }],
    ['mode off, installed: remove', { tls: { mode: 'off' }, status: issued() }, { type: 'issue', certificate: 'remove', condition: { status: 'False', reason: 'Disabled' } }],
    ['custom, not installed: install it', { tls: { mode: 'custom', custom: { certificate: PEM } }, customFingerprint: FINGERPRINT }, { type: 'issue', certificate: 'custom', condition: { reason: 'Installing' } }],
    ['custom, another one installed: install it', { tls: { mode: 'custom', custom: { certificate: PEM } }, customFingerprint: FINGERPRINT, status: issued() }, { type: 'issue', certificate: 'custom' }],
    [
      'custom, installed: Ready, never renewed by us',
      { tls: { mode: 'custom', custom: { certificate: PEM } }, customFingerprint: FINGERPRINT, status: { installed: certificate({ source: 'custom', fingerprintSha256: FINGERPRINT }) } },
      { type: 'settle', condition: { status: 'True', reason: 'Installed' } },
    ],
    [
      'custom, installed and expired: says so, issues nothing',
      { tls: { mode: 'custom', custom: { certificate: PEM } }, customFingerprint: FINGERPRINT, status: { installed: certificate({ source: 'custom', fingerprintSha256: FINGERPRINT, notAfter: at(-DAY) }) } },
      { type: 'settle', condition: { status: 'False', reason: 'CertificateExpired' } },
    ],
    ['custom chain without a readable leaf', { tls: { mode: 'custom', custom: { certificate: PEM } } }, { type: 'settle', condition: { status: 'False', reason: 'InvalidCertificate' } }],
    ['our command in flight: nothing', { status: { command: 'shop-4' }, command: { state: 'RUNNING' } }, { type: 'none' }],
  ])('%s', (_, given, expected) => {
    expect(planCertificate(observe(given))).toMatchObject(expected);
  });
});

describe('planCertificate: recording a finished IssueCertificate', () => {
  it('copies an issued certificate, resets the failures and sets the renewal two thirds in', () => {
    const installed = certificate({ notBefore: at(0), notAfter: at(90 * DAY) });
    const plan = planCertificate(observe({ status: { command: 'shop-4', failures: 3, lastAttemptAt: at(-MIN), nextAttemptAt: at(-2 * MIN), lastError: { reason: 'X', message: 'y' } }, command: { state: 'SUCCEEDED', certificate: installed } }));
    expect(plan).toEqual({
      type: 'record',
      status: { failures: 0, lastAttemptAt: at(-MIN), installed, renewAt: at(60 * DAY) },
      condition: { status: 'True', reason: 'Issued', message: `certificate for ${DOMAINS.join(', ')} valid until ${at(90 * DAY)}` },
      event: { type: 'Normal', reason: 'CertificateIssued', message: `shop-4: certificate for ${DOMAINS.join(', ')} valid until ${at(90 * DAY)}` },
    });
  });

  it('records a custom one as Installed, without a renewal', () => {
    const installed = certificate({ source: 'custom' });
    const plan = planCertificate(observe({ tls: { mode: 'custom', custom: { certificate: PEM } }, status: { command: 'shop-4' }, command: { state: 'SUCCEEDED', action: 'custom', certificate: installed } }));
    expect(plan).toMatchObject({ type: 'record', status: { installed, failures: 0 }, condition: { status: 'True', reason: 'Installed' }, event: { reason: 'CertificateInstalled' } });
    expect(plan.type === 'record' ? plan.status.renewAt : 'not recorded').toBeUndefined();
  });

  it('records a removal: nothing installed, Disabled', () => {
    const plan = planCertificate(observe({ tls: { mode: 'off' }, status: { ...issued(), command: 'shop-4' }, command: { state: 'SUCCEEDED', action: 'remove' } }));
    expect(plan).toEqual({ type: 'record', status: { failures: 0 }, condition: { status: 'False', reason: 'Disabled', message: 'spec.tls.mode is off: HTTP only' }, event: expect.objectContaining({ reason: 'CertificateRemoved' }) });
  });

  it.each<[string, Partial<CertificateCommandView> & { state: CommandState }, number, string]>([
    ['a first failure backs off a minute', { state: 'FAILED', reason: 'AcmeChallengeFailed', message: 'urn:ietf:params:acme:error:connection' }, 0, 'AcmeChallengeFailed'],
    ['a generic step failure', { state: 'FAILED', reason: 'StepFailed', message: 'boom' }, 0, 'CertificateFailed'],
    ['a rejection', { state: 'REJECTED', reason: 'StaleFence', message: 'old' }, 0, 'StaleFence'],
    ['a success without a certificate', { state: 'SUCCEEDED' }, 0, 'NoCertificateResult'],
  ])('%s', (_, command, failures, reason) => {
    const plan = planCertificate(observe({ status: { command: 'shop-4', failures, lastAttemptAt: at(-MIN) }, command }));
    expect(plan).toMatchObject({ type: 'record', status: { failures: failures + 1, nextAttemptAt: at(MIN), lastError: { reason } }, condition: { status: 'False', reason }, event: { type: 'Warning', reason: 'CertificateFailed' } });
    expect(plan.type === 'record' && 'command' in plan.status).toBe(false);
  });

  it('a rate limit waits at least an hour, or the Retry-After when longer', () => {
    const limited = (retryAfterSeconds: number) => planCertificate(observe({ status: { command: 'shop-4' }, command: { state: 'FAILED', reason: 'AcmeRateLimited', message: 'too many certificates', retryAfterSeconds } }));
    expect(limited(0)).toMatchObject({ status: { nextAttemptAt: at(HOUR) }, condition: { reason: 'AcmeRateLimited', message: 'shop-4 failed: too many certificates' } });
    expect(limited(3 * 3600)).toMatchObject({ status: { nextAttemptAt: at(3 * HOUR) } });
  });

  it('a failed renewal keeps the site Ready while the old certificate is valid', () => {
    const plan = planCertificate(observe({ status: { ...issued(-MIN), command: 'shop-4' }, command: { state: 'FAILED', reason: 'AcmeChallengeFailed', message: 'x' } }));
    expect(plan).toMatchObject({ type: 'record', status: { installed: certificate(), failures: 1 }, condition: { status: 'True', reason: 'AcmeChallengeFailed' } });
  });

  it('a command that is gone counts as a failure', () => {
    expect(planCertificate(observe({ status: { command: 'shop-4' } }))).toMatchObject({ type: 'record', condition: { reason: 'CommandNotFound' } });
  });
});

describe('policy helpers', () => {
  it('backs off from a minute, doubling, to six hours', () => {
    expect([1, 2, 3, 4, 9, 10, 50].map((n) => retryDelayMs(n, 'X', undefined) / MIN)).toEqual([1, 2, 4, 8, 256, 360, 360]);
    expect(retryDelayMs(1, 'X', 600)).toBe(10 * MIN);
    expect(retryDelayMs(1, 'AcmeRateLimited', 60)).toBe(HOUR);
  });

  it('renews two thirds into the lifetime, never within the minute', () => {
    expect(renewAt({ notBefore: at(0), notAfter: at(90 * DAY) }, NOW).toISOString()).toBe(at(60 * DAY));
    expect(renewAt({ notBefore: at(-2 * MIN), notAfter: at(MIN) }, NOW).toISOString()).toBe(at(MIN));
  });

  it('serves the URL over https once the first domain is covered (port left out at 443)', () => {
    expect(siteUrl(DOMAINS, certificate(), 'acme', 443)).toBe('https://shop.example.test/');
    expect(siteUrl(DOMAINS, certificate(), 'acme', 8082)).toBe('https://shop.example.test:8082/');
    expect(siteUrl(['new.example.test'], certificate(), 'acme', 443)).toBe('http://new.example.test/');
    expect(siteUrl(DOMAINS, undefined, 'acme', 443)).toBe('http://shop.example.test/');
    expect(siteUrl(DOMAINS, certificate(), 'off', 443)).toBe('http://shop.example.test/');
  });
});

/**
 * Invariants over a generated state space: every combination of the site's view, the mode, the
 * installed certificate, the backoff, DNS, ACME configuration and the command's state.
 */
describe('planCertificate: invariants over the state space', () => {
  const worlds: Given[] = [];
  const modes: Record<string, unknown>[] = [{}, { acme: { challenge: 'dns-01', dns: { provider: 'cloudflare' } } }, { mode: 'off' }, { mode: 'custom', custom: { certificate: PEM } }];
  const statuses: (Partial<CertificateStatus> | undefined)[] = [
    undefined,
    issued(),
    issued(-MIN),
    { installed: certificate({ source: 'custom', fingerprintSha256: FINGERPRINT }) },
    { failures: 3, lastAttemptAt: at(-MIN * 2), nextAttemptAt: at(5 * MIN), lastError: { reason: 'AcmeRateLimited', message: 'x' } },
    { failures: 0, lastAttemptAt: at(-10_000) },
  ];
  const commands: (Given['command'] | undefined)[] = [undefined, ...COMMAND_STATES.flatMap((state) => (['acme', 'custom', 'remove'] as CertificateAction[]).map((action) => ({ state, action, certificate: certificate() })))];
  for (const phase of SITE_PHASES)
    for (const deleting of [false, true])
      for (const [busy, nodeReady] of [[false, true], [true, true], [false, false]] as const)
        for (const [pendingDeploy, fresh] of [[false, false], [true, false], [true, true]] as const)
          for (const tls of modes)
            for (const status of statuses)
              for (const dnsReady of ['True', 'False', undefined] as const)
                for (const acmeConfigured of [true, false])
                  for (const command of commands) {
                    worlds.push({ phase, deleting, busy, nodeReady, pendingDeploy, fresh, tls, status: command ? { ...status, command: 'shop-4' } : status, dnsReady, acmeConfigured, customFingerprint: FINGERPRINT, ...(command ? { command } : {}) });
                  }

  const plans = worlds.map((given) => ({ given, observation: observe(given), plan: planCertificate(observe(given)) }));
  type Case = (typeof plans)[number];
  /** The worlds (at most 3) where `holds` fails: one expect per invariant, not per world. */
  const violations = (holds: (c: Case) => boolean) => plans.filter((c) => !holds(c)).slice(0, 3).map(({ given, plan }) => ({ given, plan }));
  const ms = (value: string | undefined) => (value ? Date.parse(value) : -Infinity);

  it('covers a large space', () => {
    expect(worlds.length).toBeGreaterThan(100_000);
  });

  it('issues only for an ACTIVE, bound, idle, converged, live site on a Ready node with no command of its own pending', () => {
    expect(violations(({ given, observation, plan }) => plan.type !== 'issue' || (given.phase === 'ACTIVE' && !given.deleting && !given.busy && given.nodeReady !== false && !given.pendingDeploy && observation.status?.command === undefined))).toEqual([]);
  });

  it('never issues before nextAttemptAt nor within a minute of the last attempt', () => {
    expect(
      violations(({ observation: { status }, plan }) => plan.type !== 'issue' || (ms(status?.nextAttemptAt) <= NOW.getTime() && ms(status?.lastAttemptAt) + CERTIFICATE_POLICY.minIntervalMs <= NOW.getTime())),
    ).toEqual([]);
  });

  it('issues what the mode asks for: acme only when configured (http-01 only with DNS ready), remove only when off', () => {
    expect(
      violations(({ observation, plan }) => {
        if (plan.type !== 'issue') return true;
        const mode = observation.tls.mode;
        if (plan.certificate !== (mode === 'off' ? 'remove' : mode)) return false;
        return plan.certificate !== 'acme' || (observation.acmeConfigured && (observation.tls.acme.challenge !== 'http-01' || observation.dnsReady === 'True'));
      }),
    ).toEqual([]);
  });

  it('does nothing for a deleting site, and records a finished command exactly when one is pending', () => {
    expect(violations(({ given, plan }) => !given.deleting || plan.type === 'none')).toEqual([]);
    expect(violations(({ observation: { command }, plan }) => plan.type !== 'record' || command === undefined || ['SUCCEEDED', 'FAILED', 'REJECTED'].includes(command.state))).toEqual([]);
    expect(violations(({ given, observation: { command }, plan }) => given.deleting || command === undefined || !['SUCCEEDED', 'FAILED', 'REJECTED'].includes(command.state) || plan.type === 'record')).toEqual([]);
  });

  it('a recorded outcome clears the pending command; a failure always moves nextAttemptAt past the base backoff', () => {
    expect(
      violations(({ plan }) => plan.type !== 'record' || (plan.status.command === undefined && (plan.event.type !== 'Warning' || ms(plan.status.nextAttemptAt) >= NOW.getTime() + CERTIFICATE_POLICY.backoffBaseMs))),
    ).toEqual([]);
  });

  it('requeues only into the future, and never says Ready without a certificate that is installed', () => {
    expect(violations(({ plan }) => plan.type !== 'settle' || plan.requeueAfterMs === undefined || plan.requeueAfterMs >= 1000)).toEqual([]);
    expect(
      violations(({ observation, plan }) => {
        if (plan.type === 'none' || plan.condition.status !== 'True') return true;
        return (plan.type === 'record' ? plan.status.installed : observation.status?.installed) !== undefined;
      }),
    ).toEqual([]);
  });
});
