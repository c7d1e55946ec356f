import type { SiteConfig } from '@pressluft/proto';
import { loadTemplate } from './template.js';

/** The must-use plugin in every release of a staging site (templates/wordpress/pressluft-staging.php): no mail, no indexing. */
export const STAGING_PLUGIN = 'pressluft-staging.php';

/** spec.environment staging: no mail, noindex (plugin and X-Robots-Tag), blog_public 0. */
export function isStaging(site: Pick<SiteConfig, 'environment'>): boolean {
  return site.environment === 'staging';
}

/** STAGING_PLUGIN's content for a staging site; undefined for any other (its releases must not hold it). */
export function stagingPlugin(templatesDir: string, site: Pick<SiteConfig, 'environment'>): string | undefined {
  return isStaging(site) ? loadTemplate(templatesDir, `wordpress/${STAGING_PLUGIN}`) : undefined;
}
