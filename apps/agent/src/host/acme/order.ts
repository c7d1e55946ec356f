import { AsyncLocalStorage } from 'node:async_hooks';
import * as acme from 'acme-client';
import { StepError, type StepReason } from '../errors.js';
import { DnsProviderError, DnsProviderUnavailable } from './dns-providers.js';

/** Where an order is when it fails: the reason follows from it (and from the ACME problem). */
export type OrderPhase = 'account' | 'order' | 'challenge' | 'finalize';

/** The last RFC 7807 problem document the ACME server answered within one order. */
export interface AcmeProblem {
  readonly type: string;
  readonly detail: string;
  /** From the answer's Retry-After header, when it had one. */
  readonly retryAfterSeconds?: number;
}

interface OrderScope {
  problem?: AcmeProblem;
  /** The last URL asked (acme-client loses a transport error: this names what did not answer). */
  url?: string;
}

export const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';
/** A rate limit without a usable Retry-After: not before an hour. */
export const DEFAULT_RATE_LIMIT_RETRY_SECONDS = 3600;

/** Retry-After as seconds from `now`: delta-seconds or an HTTP date; undefined when absent or unusable. */
export function parseRetryAfter(header: unknown, now: Date): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) > 0 ? Number(value) : undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const seconds = Math.ceil((at - now.getTime()) / 1000);
  return seconds > 0 ? seconds : undefined;
}

/** The problem document of an answer (application/problem+json), if it is one. */
export function problemOf(data: unknown, retryAfter: unknown, now: Date): AcmeProblem | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { type, detail } = data as { type?: unknown; detail?: unknown };
  if (typeof type !== 'string' || !type.startsWith('urn:ietf:params:acme:error:')) return undefined;
  const seconds = parseRetryAfter(retryAfter, now);
  return { type, detail: typeof detail === 'string' ? detail : '', ...(seconds !== undefined ? { retryAfterSeconds: seconds } : {}) };
}

/**
 * The failure an order ends with: a rate limit (whenever it comes) is AcmeRateLimited with its
 * Retry-After (default an hour); a failed challenge AcmeChallengeFailed with the server's detail;
 * the DNS provider's own failures theirs; anything else AcmeError. Pure.
 */
export function classifyOrderFailure(directoryUrl: string, phase: OrderPhase, error: unknown, scope: { problem?: AcmeProblem; url?: string }): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof DnsProviderUnavailable) return new StepError('acme', 'DnsProviderUnavailable', error.message);
  if (error instanceof DnsProviderError) return new StepError('acme', 'DnsProviderFailed', error.message);
  const problem = scope.problem;
  // acme-client turns a transport failure into a TypeError of its own (no response to read).
  const detail = error instanceof TypeError ? `no answer from ${scope.url ?? directoryUrl}` : error instanceof Error ? error.message : String(error);
  const message = `ACME ${directoryUrl}: ${phase}: ${detail || problem?.detail || 'failed'}`;
  if (problem?.type === RATE_LIMITED) return new StepError('acme', 'AcmeRateLimited', message, problem.retryAfterSeconds ?? DEFAULT_RATE_LIMIT_RETRY_SECONDS);
  const reason: StepReason = phase === 'challenge' ? 'AcmeChallengeFailed' : 'AcmeError';
  return new StepError('acme', reason, message);
}

const scopes = new AsyncLocalStorage<OrderScope>();
let configured = false;

/**
 * acme-client's HTTP client, once per process: it must not retry on its own (a rate limit's
 * Retry-After can be hours: the control plane schedules the retry from Failed.retry_after_seconds),
 * and every answer's problem document is kept for the order that asked (its error carries only the detail).
 */
function configureClient(): void {
  if (configured) return;
  configured = true;
  const settings = (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings;
  settings.retryMaxAttempts = 0;
  acme.axios.interceptors.request.use((config) => {
    const scope = scopes.getStore();
    if (scope && config.url) scope.url = config.url;
    return config;
  });
  acme.axios.interceptors.response.use((response) => {
    const scope = scopes.getStore();
    const problem = scope ? problemOf(response.data, response.headers['retry-after'], new Date()) : undefined;
    if (scope && problem) scope.problem = problem;
    return response;
  });
}

/** Publishes one challenge's answer; returns its removal. */
export type ChallengePresenter = (domain: string, token: string, keyAuthorization: string) => Promise<() => Promise<void>>;

export interface OrderRequest {
  readonly directoryUrl: string;
  readonly accountKey: string;
  /** The account's URL when this node registered it before (no newAccount call then). */
  readonly accountUrl: string | undefined;
  readonly email: string;
  readonly domains: readonly string[];
  readonly csr: Buffer;
  readonly challengeType: 'http-01' | 'dns-01';
  readonly present: ChallengePresenter;
  readonly log: (line: string) => Promise<void>;
  /** A cleanup that failed (the order goes on): logged, never thrown. */
  readonly cleanupFailed: (error: unknown) => void;
}

/**
 * One ACME order (RFC 8555) with acme-client: the account (registered once per key), the order
 * for every domain, each pending authorization's challenge presented, answered and waited for
 * (every presented answer removed afterwards, also on failure), the CSR finalized, the chain
 * downloaded. Returns the chain (PEM) and the account's URL.
 */
export async function runOrder(request: OrderRequest): Promise<{ chainPem: string; accountUrl: string }> {
  configureClient();
  const scope: OrderScope = {};
  let phase: OrderPhase = 'account';
  const cleanups: Array<() => Promise<void>> = [];
  return scopes.run(scope, async () => {
    try {
      const client = new acme.Client({
        directoryUrl: request.directoryUrl,
        accountKey: request.accountKey,
        ...(request.accountUrl ? { accountUrl: request.accountUrl } : {}),
        backoffAttempts: 12,
        backoffMin: 500,
        backoffMax: 10_000,
      });
      if (!request.accountUrl) {
        await client.createAccount({ termsOfServiceAgreed: true, ...(request.email ? { contact: [`mailto:${request.email}`] } : {}) });
      }
      const accountUrl = client.getAccountUrl();
      await request.log(`acme: account ${accountUrl}${request.accountUrl ? ' (this node\'s, reused)' : ' (registered)'}`);
      phase = 'order';
      const order = await client.createOrder({ identifiers: request.domains.map((value) => ({ type: 'dns', value })) });
      const authorizations = await client.getAuthorizations(order);
      phase = 'challenge';
      const answered = [];
      for (const authz of authorizations) {
        if (authz.status === 'valid') continue;
        const domain = authz.identifier.value;
        const challenge = authz.challenges.find((c) => c.type === request.challengeType);
        if (!challenge) throw new StepError('acme', 'AcmeChallengeFailed', `ACME ${request.directoryUrl}: the server offers no ${request.challengeType} challenge for ${domain}`);
        const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
        cleanups.push(await request.present(domain, challenge.token, keyAuthorization));
        answered.push({ domain, challenge });
      }
      for (const { domain, challenge } of answered) {
        await client.completeChallenge(challenge);
        try {
          await client.waitForValidStatus(challenge);
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          throw new StepError('acme', 'AcmeChallengeFailed', `ACME ${request.directoryUrl}: ${request.challengeType} for ${domain} failed: ${detail}`);
        }
        await request.log(`acme: ${request.challengeType} for ${domain} valid`);
      }
      phase = 'finalize';
      const finalized = await client.finalizeOrder(order, request.csr);
      const chainPem = await client.getCertificate(finalized);
      return { chainPem, accountUrl };
    } catch (error) {
      throw classifyOrderFailure(request.directoryUrl, phase, error, scope);
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(request.cleanupFailed);
    }
  });
}
