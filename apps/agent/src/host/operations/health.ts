import type { SupervisedState } from '@pressluft/domain';
import type { NodeServiceHealth, SiteConfig, SiteHealth } from '@pressluft/proto';
import { planSite, sitePaths } from '../naming.js';
import { listenTarget } from '../nginx.js';
import { runningByPidFile } from '../process-tree.js';
import { isNginxMaster } from '../service-process.js';
import { runningMaster } from '../php-fpm.js';
import { checkService, probeSite, type ServiceCheck, type SiteProbe } from '../probes.js';
import { currentRelease } from '../releases.js';
import type { HostContext } from '../site-support.js';
import type { Supervisor } from '../supervisor.js';

const PROBE_TIMEOUT_MS = 5_000;
const SERVICE_TIMEOUT_MS = 2_000;
/** A failed probe is asked once more after this long before the site counts as not serving. */
const CONFIRM_AFTER_MS = 300;

/** An answer a visitor would call working (redirects included, as a Kubernetes httpGet probe). Pure. */
export function servingStatus(status: number): boolean {
  return status >= 200 && status < 400;
}

/** The node's services as a site depends on them: nginx always, MariaDB always, Redis when its object cache is on. */
export interface SiteDependencies {
  readonly nginx: ServiceCheck;
  /** Services the site's pages need, by name (mariadb, redis); a failed probe is blamed on a down one. */
  readonly backends: ReadonlyArray<readonly [string, ServiceCheck]>;
}

/**
 * One site's health from what the node saw: its nginx, its PHP-FPM master (up, and its
 * supervision), and a probe through nginx (none when nginx or the master is down, or the site
 * has no release). The first cause wins: the node's nginx, then the site's process, then the
 * answer; a failed answer while a service the site needs is down is that service's fault. Pure.
 */
export function siteHealthOf(name: string, services: SiteDependencies, process: { readonly up: boolean; readonly supervision: SupervisedState }, probe: SiteProbe | undefined): SiteHealth {
  const { nginx } = services;
  const { restarts, crashLooping, lastExit } = process.supervision;
  const base = { name, httpStatus: probe?.status ?? 0, probeSeconds: probe?.seconds ?? 0, processUp: process.up, restarts, crashLooping, lastExit: lastExit ?? '' };
  const notServing = (reason: string, message: string): SiteHealth => ({ ...base, state: 'NOT_SERVING', reason, message });
  if (!nginx.up) return notServing('NodeServiceDown', `nginx on the node is down: ${nginx.message}`);
  if (!process.up) {
    const loop = crashLooping ? `; crash loop after ${restarts} restarts, restarting with backoff` : '';
    return notServing('ProcessDown', `the site's PHP-FPM master is not running (${lastExit ?? 'not started'})${loop}`);
  }
  if (!probe) return { ...base, state: 'UNKNOWN', reason: '', message: 'no release to probe' };
  const answer = probe.status === undefined ? `GET / got no answer: ${probe.error ?? 'unknown error'}` : `GET / answered ${probe.status}`;
  if (probe.status !== undefined && servingStatus(probe.status)) return { ...base, state: 'SERVING', reason: '', message: answer };
  const down = services.backends.find(([, check]) => !check.up);
  if (down) return notServing('NodeServiceDown', `${down[0]} on the node is down: ${down[1].message} (${answer})`);
  return notServing(probe.status === undefined ? 'Unreachable' : 'HttpStatus', answer);
}

/** The node's services the sites need: nginx (its sites' listener), MariaDB, Redis when the node has one. */
async function nodeServices(ctx: HostContext, supervision: (name: string) => SupervisedState): Promise<NodeServiceHealth[]> {
  const { settings } = ctx;
  const checks: Array<[string, Promise<ServiceCheck>]> = [
    ['nginx', nginxCheck(ctx)],
    ['mariadb', checkService({ path: settings.mariadb.socket }, { answer: true, timeoutMs: SERVICE_TIMEOUT_MS })],
  ];
  if (settings.redis) checks.push(['redis', checkService({ path: settings.redis.socket }, { answer: true, greeting: 'PING\r\n', timeoutMs: SERVICE_TIMEOUT_MS })]);
  const out: NodeServiceHealth[] = [];
  for (const [name, check] of checks) {
    const { up, message } = await check;
    const { restarts, crashLooping, lastExit } = supervision(name);
    out.push({ name, up, message: up ? (lastExit ?? '') : message, restarts, crashLooping });
  }
  return out;
}

/** Sites probed at once (each probe is a real page render on the node's PHP-FPM). */
const PROBES_AT_ONCE = 4;

/**
 * nginx accepts on the sites' listener; when the agent keeps it running (its pid file is known),
 * its master must be alive too: workers a killed master left behind still accept, but serve an
 * nginx nobody can reload.
 */
async function nginxCheck(ctx: HostContext): Promise<ServiceCheck> {
  const { pidFile, listen } = ctx.settings.nginx;
  if (pidFile && (await runningByPidFile(pidFile, isNginxMaster)) === undefined) return { up: false, message: `no nginx master runs (pid file ${pidFile})` };
  return checkService(listenTarget(listen), { answer: false, timeoutMs: SERVICE_TIMEOUT_MS });
}

/** The node's services, then each site's health (the sites given: the idle ones; a command works on the others). */
export async function nodeHealth(ctx: HostContext, supervisor: Supervisor, sites: readonly SiteConfig[]): Promise<{ sites: SiteHealth[]; services: NodeServiceHealth[] }> {
  const services = await nodeServices(ctx, (name) => supervisor.state(name));
  const check = (name: string): ServiceCheck | undefined => {
    const service = services.find((s) => s.name === name);
    return service && { up: service.up, message: service.message };
  };
  const nginx = check('nginx') ?? { up: false, message: 'not checked' };
  const out: SiteHealth[] = new Array<SiteHealth>(sites.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < sites.length; i = next++) {
      const site = sites[i] as SiteConfig;
      const backends = (site.cache?.redis ? ['mariadb', 'redis'] : ['mariadb']).flatMap((name) => {
        const service = check(name);
        return service ? [[name, service] as const] : [];
      });
      out[i] = await oneSite(ctx, supervisor, site, { nginx, backends });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROBES_AT_ONCE, sites.length) }, worker));
  return { sites: out, services };
}

async function oneSite(ctx: HostContext, supervisor: Supervisor, site: SiteConfig, services: SiteDependencies): Promise<SiteHealth> {
  const { nginx } = services;
  try {
    const plan = planSite(site);
    const paths = sitePaths(ctx.settings, plan.name, plan.id);
    const up = (await runningMaster(paths.fpmPid, paths.fpmConfig)) !== undefined;
    const domain = plan.domains[0] ?? '';
    const probeable = nginx.up && up && (await currentRelease(paths)) !== undefined;
    const target = listenTarget(ctx.settings.nginx.listen);
    let probe = probeable ? await probeSite(target.host, target.port, domain, PROBE_TIMEOUT_MS) : undefined;
    if (probe && !(probe.status !== undefined && servingStatus(probe.status))) {
      await new Promise((resolve) => setTimeout(resolve, CONFIRM_AFTER_MS));
      probe = await probeSite(target.host, target.port, domain, PROBE_TIMEOUT_MS);
    }
    return siteHealthOf(plan.name, services, { up, supervision: supervisor.state(plan.name) }, probe);
  } catch (error) {
    ctx.logger.warn({ site: site.name, err: error }, 'health: site not probed');
    const { restarts, crashLooping } = supervisor.state(site.name);
    return { name: site.name, state: 'UNKNOWN', reason: '', message: 'not probed: the agent could not look at it', httpStatus: 0, probeSeconds: 0, processUp: false, restarts, crashLooping, lastExit: '' };
  }
}
