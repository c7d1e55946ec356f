import { siteSpecSchema, type Resource, type SiteSpec } from '@pressluft/domain';
import { describe, expect, it } from 'vitest';
import { siteConfig } from './site-config.js';

const site = (spec: Record<string, unknown>): Resource<SiteSpec, unknown> => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Site',
  metadata: { name: 'shop', uid: '6f1c2a8e-0000-4000-8000-000000000001', generation: 1, resourceVersion: '1', labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-12-07T00:00:00Z' },
  spec: siteSpecSchema.parse({ domains: ['shop.example.test'], wordpress: { version: '6.4', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' }, ...spec }),
  status: {},
});

describe('siteConfig: TLS and the page cache', () => {
  it('defaults: acme with the redirect, no HSTS; the page cache on for production at 256 MiB, 600 s', () => {
    const config = siteConfig(site({}));
    expect(config.tls).toEqual({ mode: 'acme', redirect: true, hstsMaxAgeSeconds: 0, hstsIncludeSubdomains: false, hstsPreload: false });
    expect(config.cache).toEqual({ redis: false, page: { enabled: true, sizeMib: 256, ttlSeconds: 600 } });
  });

  it('staging has no page cache unless asked; HSTS and the sizes as given', () => {
    expect(siteConfig(site({ environment: 'staging' })).cache?.page?.enabled).toBe(false);
    const config = siteConfig(site({ environment: 'staging', cache: { redis: true, page: { enabled: true, size: '1Gi', ttlSeconds: 60 } }, tls: { mode: 'off', redirect: false, hsts: { includeSubDomains: true } } }));
    expect(config.cache).toEqual({ redis: true, page: { enabled: true, sizeMib: 1024, ttlSeconds: 60 } });
    expect(config.tls).toEqual({ mode: 'off', redirect: false, hstsMaxAgeSeconds: 31_536_000, hstsIncludeSubdomains: true, hstsPreload: false });
  });
});
