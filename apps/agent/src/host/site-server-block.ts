import type { SiteConfig } from '@pressluft/proto';
import { defaultServerFile, ensureServerBlock, listenTarget } from './nginx.js';
import { acmeChallengeDir, planSite, sitePaths, type SitePaths } from './naming.js';
import { ensurePageCacheDir, removePageCacheDir, servePurgeSocket } from './page-cache.js';
import { Dir, isErrno, readIfExists } from './safe-fs.js';
import { DEFAULT_SERVER_FRAGMENTS, planEdge, renderDefaultServers, renderSiteConf, SITE_FRAGMENTS, type InstalledCertificate } from './site-conf.js';
import type { HostContext } from './site-support.js';
import { loadTemplate } from './template.js';
import { requireUser } from './users.js';

function fragments<K extends string>(templatesDir: string, names: readonly K[]): Record<K, string> {
  return Object.fromEntries(names.map((name) => [name, loadTemplate(templatesDir, `nginx/${name}.conf`)])) as Record<K, string>;
}

/**
 * The certificate IssueCertificate installed for the site: both PEM files (regular files in the
 * root-only tls dir) and certificate.json; undefined when any is missing (nothing is served over
 * HTTPS until all are there).
 */
export async function installedCertificate(paths: SitePaths): Promise<InstalledCertificate | undefined> {
  const metadata = await readIfExists(paths.tlsMetadata);
  if (metadata === undefined) return undefined;
  const files = await Dir.with(paths.tlsDir, [], (dir) => Promise.all([dir.lstat('fullchain.pem'), dir.lstat('privkey.pem')])).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  });
  if (files.length !== 2 || !files.every((st) => st?.isFile())) return undefined;
  const parsed: unknown = JSON.parse(metadata);
  const ocspStapling = typeof parsed === 'object' && parsed !== null && 'ocspStapling' in parsed && parsed.ocspStapling === true;
  return { certificate: paths.tlsCertificate, privateKey: paths.tlsPrivateKey, ocspStapling };
}

/**
 * The site's nginx configuration on this node, rendered from its config and from what the node
 * holds for it (site-conf.ts: HTTP, HTTPS once a certificate is installed, the redirect, HSTS,
 * the page cache), then applied (check, apply, verify: ensureServerBlock). The node's default
 * servers go first: a host no site claims never reaches a tenant's block. Before it, the page
 * cache directory when the cache is on and the site's purge socket; after it, a cache directory
 * the site no longer uses is removed. Returns true when the site's block changed. Every
 * operation that changes how a site is served (provision, deploy, restore, IssueCertificate)
 * goes through here.
 */
export async function ensureSiteServerBlock(ctx: HostContext, site: SiteConfig, log: (line: string) => Promise<void> = () => Promise.resolve()): Promise<boolean> {
  const plan = planSite(site);
  const edge = planEdge(site);
  const paths = sitePaths(ctx.settings, plan.name, plan.id);
  const { command, listen, tlsListen, sitesDir } = ctx.settings.nginx;
  const fallback = renderDefaultServers(fragments(ctx.templatesDir, DEFAULT_SERVER_FRAGMENTS), listen, tlsListen);
  const fallbackFile = defaultServerFile(sitesDir);
  if (await ensureServerBlock(command, fallbackFile, fallback)) await log(`nginx: default server ${fallbackFile} loaded`);
  if (edge.pageCache) await ensurePageCacheDir(paths, await requireUser(ctx.settings.nginx.user));
  await servePurgeSocket(ctx, plan.name, plan.id);
  const certificate = edge.https && tlsListen !== undefined ? await installedCertificate(paths) : undefined;
  const block = renderSiteConf(fragments(ctx.templatesDir, SITE_FRAGMENTS), {
    plan,
    edge,
    paths,
    listen,
    tlsListen,
    httpsPort: ctx.settings.nginx.httpsPort ?? (tlsListen === undefined ? 443 : listenTarget(tlsListen).port),
    acmeChallenges: acmeChallengeDir(ctx.settings),
    certificate,
  });
  const changed = await ensureServerBlock(command, paths.nginxFile, block);
  if (changed) await log(`nginx: server block ${paths.nginxFile} loaded${certificate ? ' (HTTPS)' : ''}${edge.pageCache ? ' (page cache)' : ''}`);
  if (!edge.pageCache && (await removePageCacheDir(paths))) await log(`page cache ${paths.pageCacheDir}: off, removed`);
  return changed;
}
