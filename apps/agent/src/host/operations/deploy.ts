import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeploySecrets, ReleasesResult, StepReporter } from '@pressluft/agent-runtime';
import { isSshGitUrl } from '@pressluft/domain';
import type { GitSource, SiteConfig } from '@pressluft/proto';
import { installDependencies } from '../composer.js';
import { StepError, type StepName } from '../errors.js';
import { siteJail } from '../jail.js';
import { planSite, sitePaths, type SitePaths } from '../naming.js';
import { purgePageCache } from '../page-cache.js';
import { checkGitSource, fetchGit, type GitFetchSource } from '../git.js';
import { ensureDeployKey, deployKeyPath } from '../deploy-key.js';
import { recordReleaseCommit } from '../release-commits.js';
import { commitRelease, keepCount, listReleases, nextReleaseName, releasesToPrune, removeRelease, stageRelease } from '../releases.js';
import { healthCheck, requireProvisioned, siteCgroup, switchTo, type HostContext } from '../site-support.js';
import { ensureSiteServerBlock } from '../site-server-block.js';
import { stagingPlugin } from '../staging.js';
import { StepRunner } from '../step-runner.js';
import { loadTemplate } from '../template.js';
import { requireUser } from '../users.js';

/**
 * A new release of a provisioned site: releases/<UTC ts>/ with WordPress core (hard links from
 * the node's pristine copy) and, with spec.code.git, the repository's wp-content over it (files
 * unchanged since the previous release hard-linked from it); shared/wp-config.php and uploads
 * linked in; with a composer.json in wp-content, `composer install` as the site user in the
 * staging dir (DependencyInstallFailed leaves no release behind). Then GET / of the NEW release
 * through the site's own PHP-FPM pool must answer 200 BEFORE `current` moves (atomic rename of
 * a new symlink over it), with the site's nginx configuration rendered again, and the pool reloads
 * gracefully; the page cache is emptied. A failed check removes the release and leaves `current` as it was
 * (HealthCheckFailed). Finally keeps the newest keepReleases (never current or the one before).
 */
export async function deploy(ctx: HostContext, site: SiteConfig, report: StepReporter, secrets: DeploySecrets = {}): Promise<ReleasesResult> {
  const plan = await new StepRunner(report, ctx.logger, site.name).run('validate', 5, () => Promise.resolve(planSite(site)));
  return ctx.releaseQueue.run(plan.name, async () => {
    const steps = new StepRunner(report, ctx.logger, plan.name);
    const run = <T>(step: StepName, percent: number, fn: () => Promise<T>) => steps.run(step, percent, fn);
    const { paths, owner, keep, git, current } = await run('validate', 5, async () => {
      const paths = sitePaths(ctx.settings, plan.name, plan.id);
      const current = await requireProvisioned(paths, plan.name, plan.id);
      const owner = await requireUser(plan.account);
      const keep = keepCount(site.keepReleases);
      const git = site.git && site.git.url !== '' ? checkGitSource(site.git.url, site.git.ref, { allowLocal: ctx.settings.gitAllowLocal === true }) : undefined;
      return { paths, owner, keep, git, current };
    });
    const checkout = git
      ? await run('fetch', 15, async () => {
          if (secrets.gitToken !== undefined) steps.secrets.push(secrets.gitToken);
          const source = await gitFetchSource(paths, git, site.git, secrets.gitToken);
          const policy = { allowLocal: ctx.settings.gitAllowLocal === true, ...(ctx.settings.gitCaFile ? { caFile: ctx.settings.gitCaFile } : {}) };
          const fetched = await fetchGit(source, join(ctx.settings.stateDir, 'git', plan.name), policy, ctx.settings.gitLimits);
          await report.log(`git: ${git.url} at ${git.ref || 'the default branch'} fetched, commit ${fetched.commit}`);
          return fetched;
        })
      : undefined;
    let staged;
    try {
      staged = await run('release', 35, async () => {
        const name = nextReleaseName(await listReleases(paths), new Date());
        const result = await stageRelease({
          source: ctx.settings.wordpressSource,
          coreCache: join(ctx.settings.stateDir, 'wordpress-core'),
          paths,
          owner,
          name,
          wantedVersion: site.wordpress?.version ?? '',
          ...(checkout ? { content: checkout.content } : {}),
          previous: current,
          cachePlugin: loadTemplate(ctx.templatesDir, 'wordpress/pressluft-cache.php'),
          stagingPlugin: stagingPlugin(ctx.templatesDir, site),
        });
        const content = result.content ? `, wp-content from git: ${result.content.copied} files copied, ${result.content.linked} hard-linked from ${current}` : '';
        await report.log(`release ${name}: WordPress ${result.coreVersion}${result.linkedCore ? ' (hard links)' : ''}${content}`);
        return result;
      });
    } finally {
      if (checkout) await rm(checkout.dir, { recursive: true, force: true });
    }
    // Dependencies go into the staging dir: a release that cannot install them never appears under releases/.
    const built = await run('dependencies', 45, async () => {
      try {
        const wpContent = join(staged.dir, 'wp-content');
        // Limits re-applied first: a reboot empties the cgroup tree.
        const group = await siteCgroup(ctx, plan);
        const jail = await siteJail(ctx.settings, ctx.templatesDir, paths, {
          extra: [{ path: paths.composerHome, writable: true }],
          cgroupDirs: group?.dirs ?? [],
          cwd: wpContent,
          pidNamespace: true,
        });
        const installed = await installDependencies({ composer: ctx.settings.composer, wpContent, home: paths.composerHome, owner, siteRoot: paths.root, templatesDir: ctx.templatesDir, jail });
        if (installed.ran) {
          await report.log(`release ${staged.name}: composer install done in ${installed.ms} ms`);
          for (const line of installed.output.split('\n')) await report.log(`composer: ${line}`);
        } else await report.log(`release ${staged.name}: no composer.json in wp-content, no dependencies to install`);
      } catch (error) {
        await removeRelease(paths, staged.entry);
        throw error;
      }
      return commitRelease(paths, staged);
    });
    await run('health', 60, async () => {
      try {
        await healthCheck(ctx, paths, plan.domains[0] ?? '', built.name);
      } catch (error) {
        await removeRelease(paths, built.name);
        throw error;
      }
    });
    // A spec change of how the site is served (tls.redirect, HSTS, cache.page) goes live with the
    // release; the page cache then holds the old release's pages: emptied.
    await run('switch', 80, async () => {
      await ensureSiteServerBlock(ctx, site, (line) => report.log(line));
      if (checkout) await recordReleaseCommit(paths, built.name, checkout.commit, await listReleases(paths));
      await switchTo(paths, owner, built.name, report);
      await purgePageCache(ctx, plan.name, plan.id);
      await report.log('page cache purged');
    });
    await run('prune', 95, async () => {
      for (const release of releasesToPrune(await listReleases(paths), built.name, keep)) {
        await removeRelease(paths, release);
        await report.log(`release ${release}: pruned`);
      }
    });
    return { currentRelease: built.name, releases: await listReleases(paths) };
  });
}

/** spec.code.git with how to reach it: an ssh URL the site's deploy key (made now if the site predates it), https with a token the token. */
async function gitFetchSource(paths: SitePaths, checked: { url: string; ref: string }, git: GitSource | undefined, token: string | undefined): Promise<GitFetchSource> {
  if (isSshGitUrl(checked.url)) {
    await ensureDeployKey(paths);
    return { ...checked, deployKey: deployKeyPath(paths), knownHosts: git?.knownHosts ?? '' };
  }
  if (git?.token !== true) return checked;
  if (token === undefined) throw new StepError('fetch', 'GitAuthFailed', `${checked.url} needs the site's gitToken and the command brought none`);
  return { ...checked, username: git.username, token };
}
