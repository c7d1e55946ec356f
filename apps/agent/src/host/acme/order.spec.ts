import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepError } from '../errors.js';
import { accountFileName } from './account.js';
import { checkToken, InvalidTokenError } from './challenge-dir.js';
import { DnsProviderError, DnsProviderUnavailable } from './dns-providers.js';
import { classifyOrderFailure, DEFAULT_RATE_LIMIT_RETRY_SECONDS, parseRetryAfter, problemOf, RATE_LIMITED, runOrder } from './order.js';

const DIRECTORY = 'https://acme.example.test/dir';
const now = new Date('2026-12-07T06:00:00Z');

describe('ACME answers', () => {
  it.each([
    ['120', 120],
    [' 7 ', 7],
    ['0', undefined],
    ['Mon, 07 Dec 2026 07:00:00 GMT', 3600],
    ['Mon, 07 Dec 2026 05:00:00 GMT', undefined],
    ['soon', undefined],
    [undefined, undefined],
  ])('reads Retry-After %j as %j seconds', (header, seconds) => {
    expect(parseRetryAfter(header, now)).toBe(seconds);
  });

  it('keeps only ACME problem documents', () => {
    expect(problemOf({ type: RATE_LIMITED, detail: 'too many certificates' }, '60', now)).toEqual({ type: RATE_LIMITED, detail: 'too many certificates', retryAfterSeconds: 60 });
    expect(problemOf({ type: 'urn:ietf:params:acme:error:unauthorized', detail: 'no' }, undefined, now)).toEqual({ type: 'urn:ietf:params:acme:error:unauthorized', detail: 'no' });
    expect(problemOf({ status: 'valid' }, undefined, now)).toBeUndefined();
    expect(problemOf('-----BEGIN CERTIFICATE-----', undefined, now)).toBeUndefined();
  });
});

describe('an order failure', () => {
  const limited = { problem: { type: RATE_LIMITED, detail: 'too many new orders', retryAfterSeconds: 900 } };
  it.each([
    ['a rate limit with Retry-After', 'order', new Error('too many new orders'), limited, 'AcmeRateLimited', 900, `ACME ${DIRECTORY}: order: too many new orders`],
    ['a rate limit without', 'finalize', new Error('slow down'), { problem: { type: RATE_LIMITED, detail: 'slow down' } }, 'AcmeRateLimited', DEFAULT_RATE_LIMIT_RETRY_SECONDS, `ACME ${DIRECTORY}: finalize: slow down`],
    ['a failed challenge', 'challenge', new Error('Invalid response from http://x/.well-known/acme-challenge/t: 404'), {}, 'AcmeChallengeFailed', undefined, `ACME ${DIRECTORY}: challenge: Invalid response from http://x/.well-known/acme-challenge/t: 404`],
    ['a refused order', 'order', new Error('Domain name is blocked'), { problem: { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'Domain name is blocked' } }, 'AcmeError', undefined, `ACME ${DIRECTORY}: order: Domain name is blocked`],
    ['a server that does not answer', 'account', new TypeError("Cannot read properties of undefined (reading 'config')"), { url: `${DIRECTORY}` }, 'AcmeError', undefined, `ACME ${DIRECTORY}: account: no answer from ${DIRECTORY}`],
    ['an unusable DNS provider', 'challenge', new DnsProviderUnavailable('no provider'), {}, 'DnsProviderUnavailable', undefined, 'no provider'],
    ['a failing DNS provider', 'challenge', new DnsProviderError('cloudflare: HTTP 403'), {}, 'DnsProviderFailed', undefined, 'cloudflare: HTTP 403'],
  ] as const)('%s is %s', (_name, phase, error, scope, reason, retryAfter, message) => {
    const failure = classifyOrderFailure(DIRECTORY, phase, error, scope);
    expect(failure).toBeInstanceOf(StepError);
    expect({ step: failure.step, reason: failure.reason, retryAfterSeconds: failure.retryAfterSeconds, message: failure.message }).toEqual({ step: 'acme', reason, retryAfterSeconds: retryAfter, message });
  });

  it('keeps a StepError thrown inside the order as it is', () => {
    const inner = new StepError('acme', 'AcmeChallengeFailed', 'no http-01 challenge');
    expect(classifyOrderFailure(DIRECTORY, 'challenge', inner, limited)).toBe(inner);
  });
});

describe('node files of ACME', () => {
  it.each(['LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0', 'a_b-C', '0'])('takes token %s as a file name', (token) => {
    expect(checkToken(token)).toBe(token);
  });

  it.each(['', '../etc/passwd', 'a/b', '.hidden', 'a.b', 'tok en', 'x'.repeat(256), 'a\0b'])('refuses token %j', (token) => {
    expect(() => checkToken(token)).toThrow(InvalidTokenError);
  });

  it('names an account by a hash of its directory URL (one per directory, whatever the URL holds)', () => {
    expect(accountFileName(DIRECTORY)).toMatch(/^[0-9a-f]{32}$/);
    expect(accountFileName(DIRECTORY)).toBe(accountFileName(DIRECTORY));
    expect(accountFileName('https://acme-staging.example.test/dir')).not.toBe(accountFileName(DIRECTORY));
  });
});

/** A stand-in ACME server that rate-limits every order: Pebble never does, Let's Encrypt does. */
describe('an order the ACME server rate-limits', () => {
  let server: Server;
  let directoryUrl: string;
  const posts: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'replay-nonce': `nonce-${Date.now()}`, ...headers });
        res.end(JSON.stringify(body));
      };
      req.resume();
      req.on('end', () => {
        if (req.url === '/dir') return json(200, { newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order` });
        if (req.url === '/nonce') return json(200, {});
        posts.push(req.url ?? '');
        if (req.url === '/order') {
          return json(429, { type: RATE_LIMITED, detail: 'too many new orders recently: see https://letsencrypt.org/docs/rate-limits/', status: 429 }, { 'content-type': 'application/problem+json', 'retry-after': '1800' });
        }
        return json(404, { type: 'urn:ietf:params:acme:error:malformed', detail: 'no such resource' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    directoryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fails AcmeRateLimited at once with the Retry-After it answered, without retrying', async () => {
    const accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    const started = Date.now();
    const failure = await runOrder({
      directoryUrl,
      accountKey,
      accountUrl: `${directoryUrl.replace('/dir', '')}/acct/1`,
      email: '',
      domains: ['shop.example.test'],
      csr: Buffer.from(''),
      challengeType: 'http-01',
      present: () => Promise.reject(new Error('no challenge expected')),
      log: () => Promise.resolve(),
      cleanupFailed: () => undefined,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect({ reason: (failure as StepError).reason, retryAfterSeconds: (failure as StepError).retryAfterSeconds, message: (failure as StepError).message }).toEqual({
      reason: 'AcmeRateLimited',
      retryAfterSeconds: 1800,
      message: `ACME ${directoryUrl}: order: too many new orders recently: see https://letsencrypt.org/docs/rate-limits/`,
    });
    expect(posts).toEqual(['/order']);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
