import { redact } from '../errors.js';

/** A dns-01 provider cannot be used on this node (unknown, or not configured): DnsProviderUnavailable. */
export class DnsProviderUnavailable extends Error {
  override readonly name = 'DnsProviderUnavailable';
}

/** The provider's API refused or failed (DnsProviderFailed); the message never holds its token. */
export class DnsProviderError extends Error {
  override readonly name = 'DnsProviderError';
}

/** Where a dns-01 key authorization digest is published: `present` returns its removal. */
export interface DnsProvider {
  readonly name: string;
  present(domain: string, value: string): Promise<() => Promise<void>>;
}

/** One HTTP call of a provider: what is sent (pure, table-tested). */
export interface ProviderRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly body?: unknown;
}

export const DEFAULT_CLOUDFLARE_API_URL = 'https://api.cloudflare.com/client/v4';
const TIMEOUT_MS = 30_000;

/** The record name that carries the challenge for `domain`. */
export function challengeName(domain: string): string {
  return `_acme-challenge.${domain}`;
}

/** Pebble's challenge test server: set-txt and clear-txt with a fully qualified host. */
export function challtestsrvRequests(base: string, domain: string, value: string): { set: ProviderRequest; clear: ProviderRequest } {
  const host = `${challengeName(domain)}.`;
  return { set: { method: 'POST', url: `${base}/set-txt`, body: { host, value } }, clear: { method: 'POST', url: `${base}/clear-txt`, body: { host } } };
}

/** The zones a domain may live in, longest first (a.b.example.com, b.example.com, example.com). */
export function zoneCandidates(domain: string): string[] {
  const labels = domain.split('.');
  return labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
}

/** Is `domain` the zone or below it? */
export function inZone(domain: string, zone: string): boolean {
  return domain === zone || domain.endsWith(`.${zone}`);
}

export const cloudflareRequests = {
  findZone: (base: string, zone: string): ProviderRequest => ({ method: 'GET', url: `${base}/zones?name=${encodeURIComponent(zone)}&status=active` }),
  createTxt: (base: string, zoneId: string, domain: string, value: string): ProviderRequest => ({
    method: 'POST',
    url: `${base}/zones/${encodeURIComponent(zoneId)}/dns_records`,
    body: { type: 'TXT', name: challengeName(domain), content: value, ttl: 60, comment: 'pressluft ACME dns-01 challenge' },
  }),
  deleteRecord: (base: string, zoneId: string, recordId: string): ProviderRequest => ({ method: 'DELETE', url: `${base}/zones/${encodeURIComponent(zoneId)}/dns_records/${encodeURIComponent(recordId)}` }),
};

type Call = (request: ProviderRequest) => Promise<unknown>;

/** fetch with a JSON body and a deadline; a non-2xx answer is a DnsProviderError naming the call (never a header). */
function httpCall(provider: string, headers: Record<string, string>, secrets: readonly string[]): Call {
  return async (request) => {
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: { ...headers, ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      throw new DnsProviderError(redact(`${provider}: ${request.method} ${request.url}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`, secrets));
    }
    const text = await response.text();
    if (!response.ok) throw new DnsProviderError(redact(`${provider}: ${request.method} ${request.url} answered HTTP ${response.status}: ${text.slice(0, 300)}`, secrets));
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
}

export function challtestsrvProvider(base: string): DnsProvider {
  const call = httpCall('challtestsrv', {}, []);
  return {
    name: 'challtestsrv',
    async present(domain, value) {
      const { set, clear } = challtestsrvRequests(base, domain, value);
      await call(set);
      return async () => {
        await call(clear);
      };
    },
  };
}

interface CloudflareList {
  readonly result?: ReadonlyArray<{ readonly id?: unknown; readonly name?: unknown }>;
}

function idOf(answer: unknown, what: string): string {
  const id = (answer as { result?: { id?: unknown } } | undefined)?.result?.id;
  if (typeof id !== 'string' || id === '') throw new DnsProviderError(`cloudflare: ${what} answered no id`);
  return id;
}

/**
 * Cloudflare's API with the site's API token (Bearer): the zone is `zone` when given, otherwise
 * the longest of the domain's parent names Cloudflare holds; the TXT record is deleted afterwards.
 */
export function cloudflareProvider(base: string, token: string, zone: string | undefined): DnsProvider {
  const call = httpCall('cloudflare', { authorization: `Bearer ${token}` }, [token]);
  const findZone = async (domain: string): Promise<string> => {
    const candidates = zone ? [zone] : zoneCandidates(domain);
    if (zone && !inZone(domain, zone)) throw new DnsProviderError(`cloudflare: ${domain} is not in zone ${zone}`);
    for (const name of candidates) {
      const list = (await call(cloudflareRequests.findZone(base, name))) as CloudflareList | undefined;
      const found = list?.result?.find((z) => z.name === name);
      if (typeof found?.id === 'string' && found.id !== '') return found.id;
    }
    throw new DnsProviderError(`cloudflare: no zone of this token holds ${domain} (looked for ${candidates.join(', ')})`);
  };
  return {
    name: 'cloudflare',
    async present(domain, value) {
      const zoneId = await findZone(domain);
      const recordId = idOf(await call(cloudflareRequests.createTxt(base, zoneId, domain, value)), `creating TXT ${challengeName(domain)}`);
      return async () => {
        await call(cloudflareRequests.deleteRecord(base, zoneId, recordId));
      };
    },
  };
}

/** The order's dns-01 provider as this node can use it. */
export function dnsProvider(name: string, settings: { readonly challtestsrvUrl?: string; readonly cloudflareApiUrl?: string } | undefined, token: string | undefined, zone: string): DnsProvider {
  switch (name) {
    case 'challtestsrv':
      if (!settings?.challtestsrvUrl) throw new DnsProviderUnavailable('dns-01 provider challtestsrv: this node has no challenge test server (PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL)');
      return challtestsrvProvider(settings.challtestsrvUrl);
    case 'cloudflare':
      if (!token) throw new DnsProviderUnavailable('dns-01 provider cloudflare: the site has no dnsApiToken in spec.credentials');
      return cloudflareProvider(settings?.cloudflareApiUrl ?? DEFAULT_CLOUDFLARE_API_URL, token, zone === '' ? undefined : zone);
    default:
      throw new DnsProviderUnavailable(`dns-01 provider ${JSON.stringify(name)} is not one this node knows (cloudflare, challtestsrv)`);
  }
}
