import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challtestsrvRequests, cloudflareRequests, dnsProvider, DnsProviderError, DnsProviderUnavailable, inZone, zoneCandidates } from './dns-providers.js';

describe('dns-01 provider requests', () => {
  it('sets and clears the challenge TXT record on challtestsrv with a fully qualified host', () => {
    expect(challtestsrvRequests('http://127.0.0.1:8055', 'shop.example.test', 'digest')).toEqual({
      set: { method: 'POST', url: 'http://127.0.0.1:8055/set-txt', body: { host: '_acme-challenge.shop.example.test.', value: 'digest' } },
      clear: { method: 'POST', url: 'http://127.0.0.1:8055/clear-txt', body: { host: '_acme-challenge.shop.example.test.' } },
    });
  });

  it('builds Cloudflare zone lookups, record creation and deletion', () => {
    const base = 'https://api.cloudflare.com/client/v4';
    expect(cloudflareRequests.findZone(base, 'example.com')).toEqual({ method: 'GET', url: `${base}/zones?name=example.com&status=active` });
    expect(cloudflareRequests.createTxt(base, 'z1', 'www.example.com', 'v')).toEqual({
      method: 'POST',
      url: `${base}/zones/z1/dns_records`,
      body: { type: 'TXT', name: '_acme-challenge.www.example.com', content: 'v', ttl: 60, comment: 'pressluft ACME dns-01 challenge' },
    });
    expect(cloudflareRequests.deleteRecord(base, 'z1', 'r/1')).toEqual({ method: 'DELETE', url: `${base}/zones/z1/dns_records/r%2F1` });
  });

  it.each([
    ['a.b.example.com', ['a.b.example.com', 'b.example.com', 'example.com']],
    ['example.com', ['example.com']],
  ])('looks for the zones of %s longest first', (domain, expected) => {
    expect(zoneCandidates(domain)).toEqual(expected);
  });

  it.each([
    ['www.example.com', 'example.com', true],
    ['example.com', 'example.com', true],
    ['badexample.com', 'example.com', false],
    ['example.com', 'www.example.com', false],
  ])('%s is in zone %s: %s', (domain, zone, expected) => {
    expect(inZone(domain, zone)).toBe(expected);
  });

  it.each([
    ['challtestsrv', {}, undefined, /no challenge test server/],
    ['cloudflare', {}, undefined, /has no dnsApiToken/],
    ['route53', { challtestsrvUrl: 'http://x' }, 't', /"route53" is not one this node knows/],
  ])('refuses provider %s when it cannot be used', (name, settings, token, message) => {
    expect(() => dnsProvider(name, settings, token, '')).toThrow(DnsProviderUnavailable);
    expect(() => dnsProvider(name, settings, token, '')).toThrow(message);
  });
});

/** A stand-in for Cloudflare's API (an external service): zones example.com and shop.example.com, records kept in memory. */
describe('the cloudflare provider against a local stand-in of its API', () => {
  const TOKEN = 'cf-Token-8d7s6a';
  const calls: string[] = [];
  const records = new Map<string, { zone: string; name: string; content: string }>();
  const zones = [
    { id: 'zone-example', name: 'example.com' },
    { id: 'zone-shop', name: 'shop.example.com' },
  ];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        calls.push(`${req.method} ${req.url}`);
        const answer = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return answer(403, { success: false, errors: [{ code: 9109, message: 'Invalid access token' }] });
        const url = new URL(req.url ?? '/', 'http://x');
        if (req.method === 'GET' && url.pathname === '/client/v4/zones') return answer(200, { success: true, result: zones.filter((z) => z.name === url.searchParams.get('name')) });
        const create = /^\/client\/v4\/zones\/([^/]+)\/dns_records$/.exec(url.pathname);
        if (req.method === 'POST' && create) {
          const record = JSON.parse(body) as { type: string; name: string; content: string };
          if (record.type !== 'TXT') return answer(400, { success: false });
          const id = `rec-${records.size + 1}`;
          records.set(id, { zone: create[1] ?? '', name: record.name, content: record.content });
          return answer(200, { success: true, result: { id } });
        }
        const remove = /^\/client\/v4\/zones\/([^/]+)\/dns_records\/([^/]+)$/.exec(url.pathname);
        if (req.method === 'DELETE' && remove && records.get(remove[2] ?? '')?.zone === remove[1]) {
          records.delete(remove[2] ?? '');
          return answer(200, { success: true, result: { id: remove[2] } });
        }
        return answer(404, { success: false });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('finds the longest zone, creates the TXT record with the token, and deletes it afterwards', async () => {
    calls.length = 0;
    const provider = dnsProvider('cloudflare', { cloudflareApiUrl: base }, TOKEN, '');
    const cleanup = await provider.present('www.shop.example.com', 'digest-1');
    expect([...records.values()]).toEqual([{ zone: 'zone-shop', name: '_acme-challenge.www.shop.example.com', content: 'digest-1' }]);
    await cleanup();
    expect(records.size).toBe(0);
    expect(calls).toEqual([
      'GET /client/v4/zones?name=www.shop.example.com&status=active',
      'GET /client/v4/zones?name=shop.example.com&status=active',
      'POST /client/v4/zones/zone-shop/dns_records',
      'DELETE /client/v4/zones/zone-shop/dns_records/rec-1',
    ]);
  });

  it('uses the zone the order names', async () => {
    calls.length = 0;
    const cleanup = await dnsProvider('cloudflare', { cloudflareApiUrl: base }, TOKEN, 'example.com').present('www.shop.example.com', 'digest-2');
    expect([...records.values()]).toEqual([{ zone: 'zone-example', name: '_acme-challenge.www.shop.example.com', content: 'digest-2' }]);
    await cleanup();
    expect(calls[0]).toBe('GET /client/v4/zones?name=example.com&status=active');
    await expect(dnsProvider('cloudflare', { cloudflareApiUrl: base }, TOKEN, 'example.org').present('www.example.com', 'd')).rejects.toThrow('cloudflare: www.example.com is not in zone example.org');
  });

  it('fails naming the call, never the token, when the API refuses it or no zone holds the domain', async () => {
    const refused = await dnsProvider('cloudflare', { cloudflareApiUrl: base }, 'wrong-token', '').present('www.example.com', 'd').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DnsProviderError);
    expect((refused as Error).message).toMatch(/^cloudflare: GET .*zones\?name=www.example.com&status=active answered HTTP 403: .*Invalid access token/);
    const none = await dnsProvider('cloudflare', { cloudflareApiUrl: base }, TOKEN, '').present('www.example.org', 'd').catch((error: unknown) => error);
    expect((none as Error).message).toBe('cloudflare: no zone of this token holds www.example.org (looked for www.example.org, example.org)');
    for (const error of [refused, none]) expect(String(error)).not.toContain(TOKEN);
  });
});
