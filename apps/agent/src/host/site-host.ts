import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialQueue, type DeploySecrets, type HostBackupRequest, type HostCertificateOutcome, type HostCertificateRequest, type HostRestoreRequest, type HostSiteIdentity, type ObservedHostSite, type ProvisionResult, type ReleasesResult, type SiteOperations, type StepReporter } from '@pressluft/agent-runtime';
import type { Logger } from '@pressluft/platform';
import { DEFAULT_RESTART_POLICY } from '@pressluft/domain';
import type { BackupResult, NodeServiceHealth, SiteConfig, SiteHealth } from '@pressluft/proto';
import { applySiteFirewall, siteUids } from './firewall.js';
import { checkName, SITE_NAME_PATTERN, sitePaths } from './naming.js';
import { backupSite } from './operations/backup.js';
import { certify } from './operations/certify.js';
import { runCron } from './operations/cron.js';
import { deploy } from './operations/deploy.js';
import { nodeHealth } from './operations/health.js';
import { superviseServices, superviseSite } from './operations/supervise.js';
import { siteFingerprints } from './operations/fingerprints.js';
import { provision } from './operations/provision.js';
import { remove } from './operations/remove.js';
import { restoreSite } from './operations/restore.js';
import { cloneSite } from './operations/clone.js';
import { siteIdentity } from './operations/identity.js';
import { rollbackTo } from './operations/rollback.js';
import { rotateDatabasePassword } from './operations/rotate-credentials.js';
import { purgePageCache } from './page-cache.js';
import { PurgeSockets } from './purge-socket.js';
import { stopMaster } from './php-fpm.js';
import { currentRelease, listReleases } from './releases.js';
import type { HostSettings } from './settings.js';
import { databasePresent, readIdentity, type HostContext } from './site-support.js';
import { Supervisor } from './supervisor.js';
import { defaultTemplatesDir } from './template.js';

export { StepError } from './errors.js';
export type { ObservedHostSite, ProvisionResult, ReleasesResult, StepReporter } from '@pressluft/agent-runtime';

/**
 * The host side of a site on this node: the agent's SiteOperations, one module per operation
 * under operations/ (every step idempotent: check, apply, verify). Processes run from argv
 * arrays; secrets go through files (0600, root) and stdin only; a failure is a StepError whose
 * message holds no secret.
 */
export class SiteHost implements SiteOperations {
  private readonly context: HostContext;
  /** The sites' PHP-FPM masters (by site name) and nginx (when it is the agent's to keep running). */
  private readonly supervisor: Supervisor;

  constructor(
    private readonly settings: HostSettings,
    logger: Logger,
  ) {
    this.supervisor = new Supervisor(settings.restartPolicy ?? DEFAULT_RESTART_POLICY);
    this.context = {
      settings,
      logger,
      templatesDir: settings.templatesDir ?? defaultTemplatesDir(),
      releaseQueue: new SerialQueue(),
      masterExit: this.supervisor.exited,
      purgeSockets: new PurgeSockets(logger),
    };
  }

  /** Root-only file with the site's WordPress admin password (generated on first provision). */
  adminPasswordFile(name: string): string {
    return join(this.settings.stateDir, 'sites', checkName(name), 'admin-password');
  }

  /** A provision (even a failed one) may have made a site user: the packet rules follow at once. */
  async provision(site: SiteConfig, report: StepReporter): Promise<ProvisionResult> {
    try {
      return await provision(this.context, site, report);
    } finally {
      await this.applyFirewall();
    }
  }

  deploy(site: SiteConfig, report: StepReporter, secrets?: DeploySecrets): Promise<ReleasesResult> {
    return deploy(this.context, site, report, secrets);
  }

  /** Switches back to the release before the current one (newest older than it), health-checked first like a deploy. */
  rollback(name: string, id: string, report: StepReporter): Promise<ReleasesResult> {
    return this.rollbackTo(name, id, undefined, report);
  }

  rollbackTo(name: string, id: string, release: string | undefined, report: StepReporter): Promise<ReleasesResult> {
    return rollbackTo(this.context, name, id, release, report);
  }

  rotateDatabasePassword(name: string, id: string, report: StepReporter): Promise<{ rotatedAt: string }> {
    return rotateDatabasePassword(this.context, name, id, report);
  }

  async remove(name: string, id: string, report: StepReporter): Promise<void> {
    try {
      await remove(this.context, name, id, report);
      this.supervisor.forget(name);
    } finally {
      await this.applyFirewall();
    }
  }

  backup(request: HostBackupRequest, report: StepReporter): Promise<BackupResult> {
    return backupSite(this.context, request, report);
  }

  restore(request: HostRestoreRequest, report: StepReporter): Promise<ReleasesResult> {
    return restoreSite(this.context, request, report);
  }

  clone(request: HostRestoreRequest, report: StepReporter): Promise<ProvisionResult & ReleasesResult> {
    return cloneSite(this.context, request, report);
  }

  identity(name: string, id: string): Promise<HostSiteIdentity> {
    return siteIdentity(this.context, name, id);
  }

  certify(request: HostCertificateRequest, report: StepReporter): Promise<HostCertificateOutcome> {
    return certify(this.context, request, report);
  }

  runCron(site: SiteConfig): Promise<void> {
    return runCron(this.context, site);
  }

  purgePageCache(name: string, id: string): Promise<void> {
    return purgePageCache(this.context, name, id);
  }

  /**
   * The node's per-site packet rules from the sites it holds (at start, after every provision
   * and removal), when the settings enable them.
   */
  async applyFirewall(): Promise<void> {
    const firewall = this.settings.firewall;
    if (!firewall) return;
    const sites = await this.observe();
    await applySiteFirewall(firewall, await siteUids(sites.map((site) => site.id)));
  }

  fingerprints(name: string, id: string): Promise<Record<string, string>> {
    return siteFingerprints(this.context, name, id);
  }

  /** The releases of a site on this node, newest first, and the one `current` points at. */
  async releases(name: string): Promise<{ current: string | undefined; releases: string[] }> {
    const identity = await readIdentity(join(this.settings.stateDir, 'sites', checkName(name), 'site.json'));
    if (!identity) return { current: undefined, releases: [] };
    const paths = sitePaths(this.settings, name, identity.id);
    return { current: await currentRelease(paths), releases: await listReleases(paths) };
  }

  /** The sites this node holds, from the agent's state (not from the control plane's word). */
  async observe(): Promise<ObservedHostSite[]> {
    const dir = join(this.settings.stateDir, 'sites');
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: ObservedHostSite[] = [];
    for (const name of names.sort()) {
      if (!SITE_NAME_PATTERN.test(name)) continue;
      const identity = await readIdentity(join(dir, name, 'site.json'));
      if (!identity || identity.name !== name) continue;
      const paths = sitePaths(this.settings, name, identity.id);
      out.push({ name, id: identity.id, currentRelease: (await currentRelease(paths)) ?? '', ...(await siteIdentity(this.context, name, identity.id)) });
    }
    return out;
  }

  supervise(site: SiteConfig): Promise<boolean> {
    return superviseSite(this.context, this.supervisor, site);
  }

  superviseNode(): Promise<boolean> {
    return superviseServices(this.context, this.supervisor);
  }

  /** The node's services, then each site's health (a site is not probed while nginx is down: the node's reason is its reason). */
  health(sites: readonly SiteConfig[]): Promise<{ sites: SiteHealth[]; services: NodeServiceHealth[] }> {
    return nodeHealth(this.context, this.supervisor, sites);
  }

  /** Stops every PHP-FPM master this node runs and closes this agent's purge sockets (tests, `tools/dev down`); sites stay provisioned. */
  async stopAll(): Promise<void> {
    await this.context.purgeSockets.closeAll();
    const dir = join(this.settings.stateDir, 'php-fpm');
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.map((name) => stopMaster(join(dir, name, 'php-fpm.pid'), join(dir, name, 'php-fpm.conf'))));
  }

  /** Is the database of `id` there (for tests and fingerprints). */
  databasePresent(id: string): Promise<{ database: boolean; user: boolean }> {
    return databasePresent(this.context, id);
  }
}
