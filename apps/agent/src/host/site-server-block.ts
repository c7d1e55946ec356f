import type { SiteConfig } from '@pressluft/proto';
import { defaultServerFile, ensureServerBlock, renderDefaultServer, renderServerBlock } from './nginx.js';
import { acmeChallengeDir, planSite, sitePaths } from './naming.js';
import type { HostContext } from './site-support.js';
import { loadTemplate } from './template.js';

/**
 * The site's nginx configuration on this node, rendered from its config and from what the node
 * holds for it, then applied (check, apply, verify: ensureServerBlock). The node's default server
 * goes first: a host no site claims never reaches a tenant's block. Returns true when the site's
 * block changed. Every operation that changes how a site is served (provision, deploy,
 * IssueCertificate) goes through here.
 */
export async function ensureSiteServerBlock(ctx: HostContext, site: SiteConfig, log: (line: string) => Promise<void> = () => Promise.resolve()): Promise<boolean> {
  const plan = planSite(site);
  const paths = sitePaths(ctx.settings, plan.name, plan.id);
  const fallback = renderDefaultServer(loadTemplate(ctx.templatesDir, 'nginx/default-server.conf'), ctx.settings.nginx.listen);
  const fallbackFile = defaultServerFile(ctx.settings.nginx.sitesDir);
  if (await ensureServerBlock(ctx.settings.nginx.command, fallbackFile, fallback)) await log(`nginx: default server ${fallbackFile} loaded`);
  const block = renderServerBlock(loadTemplate(ctx.templatesDir, 'nginx/site.conf'), plan, paths, ctx.settings.nginx.listen, acmeChallengeDir(ctx.settings));
  const changed = await ensureServerBlock(ctx.settings.nginx.command, paths.nginxFile, block);
  if (changed) await log(`nginx: server block ${paths.nginxFile} loaded`);
  return changed;
}
