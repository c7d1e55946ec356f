import { join } from 'node:path';
import type { StepReporter } from '@pressluft/agent-runtime';
import { StepError } from '../errors.js';
import { tail } from '../exec.js';
import { execJailed, siteJail } from '../jail.js';
import type { SitePaths, SitePlan } from '../naming.js';
import type { Ownership } from '../safe-fs.js';
import { siteCgroup, type HostContext } from '../site-support.js';
import { wpCliEnv } from '../wordpress.js';

/** Where WP-CLI runs on a restored database: as the site user in its jail, on the staged release (whose wp-config.php names the staged database). */
export interface StagedWordPress {
  readonly ctx: HostContext;
  readonly paths: SitePaths;
  readonly plan: SitePlan;
  readonly owner: Ownership;
  readonly release: string;
}

async function wpCli(staged: StagedWordPress, args: readonly string[], what: string): Promise<void> {
  const { ctx, paths, plan, owner, release } = staged;
  const group = await siteCgroup(ctx, plan);
  const jail = await siteJail(ctx.settings, ctx.templatesDir, paths, { cgroupDirs: group?.dirs ?? [], cwd: paths.tmp, pidNamespace: true });
  const argv = [...ctx.settings.wpCli, ...args, `--path=${join(paths.releases, release)}`];
  const result = await execJailed(jail, owner, argv, { env: wpCliEnv(ctx.templatesDir, paths), timeoutMs: 600_000 });
  if (result.code !== 0) throw new StepError('wordpress', 'RestoreFailed', `wp ${what} exited ${String(result.code)}: ${tail(result.stderr || result.stdout)}`);
}

/** `wp search-replace //<from> //<to>` in the staged database (serialized values kept consistent by WP-CLI). */
export async function searchReplace(staged: StagedWordPress, from: string, to: string, report: StepReporter): Promise<void> {
  await wpCli(staged, ['search-replace', `//${from}`, `//${to}`, '--all-tables-with-prefix', '--skip-columns=guid', '--skip-plugins', '--skip-themes'], `search-replace //${from} //${to}`);
  await report.log(`wordpress: URLs //${from} rewritten to //${to} in the restored database`);
}

/**
 * A staging site's database says it is not public (the staging plugin forces it for visitors
 * too, but not for WP-CLI: so this write is not taken for "unchanged").
 */
export async function markNotPublic(staged: StagedWordPress, report: StepReporter): Promise<void> {
  await wpCli(staged, ['option', 'update', 'blog_public', '0'], 'option update blog_public 0');
  await report.log('wordpress: blog_public 0 in the restored database (a staging site)');
}
