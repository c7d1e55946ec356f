import { cpuToPercent, memoryToMebibytes, pageCacheEnabled, phpSizeToMegabytes, siteTls, type GitSourceSpec, type Resource, type SiteSpec } from '@pressluft/domain';
import type { GitSource, SiteConfig } from '@pressluft/proto';

/**
 * The site's short stable id: from its uid (random), 8 base-36 characters, so the Linux user
 * `site_<id>` fits every valid site name into Linux's 32 characters.
 */
export function siteShortId(uid: string): string {
  const hex = uid.replace(/-/g, '').slice(0, 12);
  return Number.parseInt(hex, 16).toString(36).padStart(8, '0').slice(-8);
}

/** What the agent needs to converge a site: the spec as the wire contract types it. */
export function siteConfig(site: Resource<SiteSpec, unknown>): SiteConfig {
  const spec = site.spec;
  const hasGitToken = siteCredentialFields(site.status).includes('gitToken');
  return {
    name: site.metadata.name,
    id: siteShortId(site.metadata.uid),
    environment: spec.environment,
    domains: [...spec.domains],
    php: {
      version: spec.php.version ?? '8.2',
      memoryLimitMb: phpSizeToMegabytes(spec.php.memoryLimit) ?? 256,
      maxChildren: spec.php.maxChildren,
      uploadMaxMb: spec.php.uploadMaxSize ? (phpSizeToMegabytes(spec.php.uploadMaxSize) ?? 64) : 64,
    },
    wordpress: {
      version: spec.wordpress.version,
      title: spec.wordpress.title,
      adminUser: spec.wordpress.adminUser,
      adminEmail: spec.wordpress.adminEmail,
      locale: spec.wordpress.locale ?? 'en_US',
      xmlrpc: spec.wordpress.xmlrpc ?? false,
    },
    resources: {
      cpuPercent: cpuToPercent(spec.resources.cpu) ?? 100,
      memoryMib: memoryToMebibytes(spec.resources.memory) ?? 512,
    },
    ...(spec.code ? { git: gitConfig(spec.code.git, hasGitToken) } : {}),
    keepReleases: spec.releases.keep,
    cache: {
      redis: spec.cache?.redis ?? false,
      page: { enabled: pageCacheEnabled(spec), sizeMib: memoryToMebibytes(spec.cache?.page?.size ?? '256Mi') ?? 256, ttlSeconds: spec.cache?.page?.ttlSeconds ?? 600 },
    },
    tls: tlsConfig(spec),
  };
}

function tlsConfig(spec: SiteSpec): NonNullable<SiteConfig['tls']> {
  const tls = siteTls(spec);
  return {
    mode: tls.mode,
    redirect: tls.redirect,
    hstsMaxAgeSeconds: tls.hsts?.maxAgeSeconds ?? 0,
    hstsIncludeSubdomains: tls.hsts?.includeSubDomains ?? false,
    hstsPreload: tls.hsts?.preload ?? false,
  };
}

/** The stored write-only fields of a site (status.credentials.fields; never the values). */
function siteCredentialFields(status: unknown): readonly string[] {
  const credentials = typeof status === 'object' && status !== null ? (status as { credentials?: { fields?: unknown } }).credentials : undefined;
  return Array.isArray(credentials?.fields) ? (credentials.fields as string[]) : [];
}

/** spec.code.git on the wire: a token is only announced (the node fetches it over gRPC). */
function gitConfig(git: GitSourceSpec, hasToken: boolean): GitSource {
  const https = git.url.startsWith('https://');
  return {
    url: git.url,
    ref: git.ref,
    knownHosts: git.knownHosts ?? '',
    username: https && hasToken ? (git.username ?? 'x-access-token') : '',
    token: https && hasToken,
  };
}
