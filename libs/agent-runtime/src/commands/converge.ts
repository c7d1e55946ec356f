import { convergeSteps, fingerprintItemsAfter, type ConvergeCommand, type ReleaseSource } from '@pressluft/domain';
import type { SiteConfig } from '@pressluft/proto';
import { failure } from '../failure.js';
import type { CommandHandler } from './command-handler.js';
import { elapsed, releasesOf, siteState } from './site-state.js';

function releaseSource(config: SiteConfig): ReleaseSource {
  return { wordpressVersion: config.wordpress?.version, gitUrl: config.git?.url, gitRef: config.git?.ref };
}

/**
 * ProvisionSite and DeploySite: the host converges the configuration; a new release source (or a
 * first provision with code) also builds a release, health-checks it and only then switches.
 * Every DeploySite leaves the site's page cache empty.
 */
export function converge(command: ConvergeCommand): CommandHandler<'provisionSite' | 'deploySite'> {
  return async (payload, context) => {
    const { fences, host, ref, report } = context;
    const config = payload.site;
    if (!config) throw failure('InvalidCommand', 'the command carries no site configuration');
    const before = fences.appliedConfigs().get(ref.site);
    const steps = convergeSteps(command, before && releaseSource(before), releaseSource(config));
    const result = await host.provision(config, report);
    // A private https repository's token, fetched for this command only (never on the bus).
    const gitToken = steps.includes('release') && config.git?.token ? await context.siteSecrets.access(ref.site, 'gitToken', ref.id) : undefined;
    const deployed = steps.includes('release') ? await host.deploy(config, report, gitToken === undefined ? {} : { gitToken }) : undefined;
    // A deploy of the same release still changes how the site answers (its configuration): the
    // pages cached before it go (a new release's switch has emptied the cache already).
    if (command === 'deploy' && !deployed) {
      await host.purgePageCache(config.name, config.id);
      await report.log('page cache purged');
    }
    fences.saveAppliedConfig(ref.site, config);
    const releases = deployed ?? (await releasesOf(context));
    // What this converge left is what the control plane expects from now on.
    const site = await siteState(context, releases, fingerprintItemsAfter('converge'));
    return { message: `site serves ${result.url} from release ${releases?.currentRelease ?? result.currentRelease} (${elapsed(context)})`, site };
  };
}
