// The hostile-tenant specs' sites (apps/agent/test: outside src/, so the build leaves it out): small
// sites with fresh names and ids, and their removal after the suite whatever a test left.
import { randomBytes } from 'node:crypto';
import type { SiteConfig } from '@pressluft/proto';
import type { SiteHost } from '../src/host/site-host.js';
import { QUIET, type HostHarness } from './host-harness.js';

/** An 8-character [0-9a-z] site id, as the control plane derives one. */
export function randomSiteId(): string {
  return randomBytes(8).toString('hex').replace(/[^0-9a-z]/g, '').slice(0, 8).padEnd(8, '0');
}

/** A small site `name` with one domain (`<name>.example.test`) and a fresh id. */
export function hostileSite(name: string, overrides: Partial<SiteConfig> = {}): SiteConfig {
  return {
    name,
    id: randomSiteId(),
    environment: 'production',
    domains: [`${name}.example.test`],
    php: { version: '8.2', memoryLimitMb: 128, maxChildren: 2, uploadMaxMb: 8 },
    wordpress: { version: '', title: name, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
    resources: { cpuPercent: 100, memoryMib: 256 },
    keepReleases: 2,
    ...overrides,
  };
}

/** After a suite: removes its sites (a failure is logged, not thrown), stops the masters, cleans the harness. */
export async function removeSites(host: SiteHost, harness: HostHarness, sites: readonly SiteConfig[]): Promise<void> {
  for (const site of sites) await host.remove(site.name, site.id, QUIET).catch((e: unknown) => console.error(`cleanup of ${site.name} failed:`, e));
  await host.stopAll().catch(() => undefined);
  harness.cleanup();
}
