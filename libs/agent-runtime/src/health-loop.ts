import type { Logger } from '@pressluft/platform';
import { NodeHealth, type NodeServiceHealth, type SiteConfig, type SiteHealth } from '@pressluft/proto';
import type { FenceStore } from './fence-store.js';
import type { SiteOperations } from './site-operations.js';
import type { SerialQueue } from './site-queue.js';

export interface HealthLoopOptions {
  readonly node: string;
  readonly host: SiteOperations;
  readonly fences: FenceStore;
  /** The agent's per-site queue: supervision never runs beside a command for the same site. */
  readonly perSite: SerialQueue;
  readonly publish: (payload: Uint8Array) => Promise<void>;
  readonly logger: Logger;
  /** How often each process is looked at (default 1 s). */
  readonly superviseMs?: number;
  /** How often every site is probed through nginx (default 10 s). */
  readonly probeMs?: number;
}

/**
 * Supervision and liveness on the node. Every `superviseMs` each site's processes (through the
 * per-site queue, skipped while a command works on the site) and the node's own are looked at and
 * restarted when due; every `probeMs` (and at once after a restart) the node's services are
 * checked and every idle site probed; a site is probed again as soon as a command for it ends
 * (`refresh`). A NodeHealth snapshot goes out when something in it changed (transitions, never a
 * mere new latency) and with every periodic report (`publishNow`, the samples as they are), so a
 * lost one is repaired. A site a command works on keeps its last sample: a deploy is not an outage.
 */
export class HealthLoop {
  private timers: NodeJS.Timeout[] = [];
  private readonly samples = new Map<string, SiteHealth>();
  private services: NodeServiceHealth[] = [];
  private published = '';
  private supervising: Promise<void> | undefined;
  /** The tail of the serialized probe passes and publications. */
  private probing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: HealthLoopOptions) {}

  start(): void {
    this.stopped = false;
    const every = (ms: number, task: () => Promise<void>) => this.timers.push(setInterval(() => void task(), ms));
    every(this.options.superviseMs ?? 1000, () => this.superviseOnce());
    every(this.options.probeMs ?? 10_000, () => this.probeOnce());
    void this.probeOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.all([this.supervising, this.probing]);
  }

  /** The whole snapshot as last sampled, changed or not (with every periodic report; no new probes). */
  publishNow(): Promise<void> {
    return this.serialized(() => this.publish(true)).catch((error: unknown) => this.options.logger.warn({ err: error }, 'health: publishing the snapshot failed'));
  }

  /** One site probed now (a command for it just ended: it is still in the queue), published when that changed anything. */
  refresh(site: string): Promise<void> {
    const config = this.options.fences.appliedConfigs().get(site);
    if (!config) return Promise.resolve();
    return this.serialized(() => this.sample([config])).catch((error: unknown) => this.options.logger.warn({ site, err: error }, 'health: probing a site failed'));
  }

  /** One supervision pass (not overlapping the last). */
  superviseOnce(): Promise<void> {
    this.supervising ??= this.supervise().finally(() => (this.supervising = undefined));
    return this.supervising;
  }

  private async supervise(): Promise<void> {
    const { host, fences, perSite, logger } = this.options;
    let changed = await host.superviseNode().catch((error: unknown) => {
      logger.warn({ err: error }, 'supervision: node services not looked at');
      return false;
    });
    const held = fences.sites();
    for (const [site, config] of this.idleSites()) {
      if (this.stopped) return;
      if (held.get(site)?.deleting) continue;
      const restarted = await perSite.run(site, () => host.supervise(config)).catch((error: unknown) => {
        logger.warn({ site, err: error }, 'supervision: site not looked at');
        return false;
      });
      changed ||= restarted;
    }
    if (changed && !this.stopped) await this.probeOnce();
  }

  /** One probe pass of every idle site; published when something changed. */
  probeOnce(): Promise<void> {
    return this.serialized(() => this.sample([...this.idleSites().values()])).catch((error: unknown) => this.options.logger.warn({ err: error }, 'health: probe pass failed'));
  }

  /** The node's services and `sites` probed now; published when that changed anything. */
  private async sample(sites: readonly SiteConfig[]): Promise<void> {
    const observed = await this.options.host.health(sites);
    this.services = observed.services;
    for (const sample of observed.sites) this.samples.set(sample.name, sample);
    await this.publish(false);
  }

  /** Probe passes, refreshes and publications run one at a time, in order. */
  private serialized(task: () => Promise<void>): Promise<void> {
    const next = (this.probing ?? Promise.resolve()).then(() => (this.stopped ? undefined : task()));
    this.probing = next.catch(() => undefined);
    return next;
  }

  /** The snapshot of the samples kept (sites no longer held dropped), when it is news or `force`. */
  private async publish(force: boolean): Promise<void> {
    const known = new Set(this.options.fences.sites().keys());
    for (const name of this.samples.keys()) if (!known.has(name)) this.samples.delete(name);
    const sites = [...this.samples.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const key = transitionKey(sites, this.services);
    if (!force && key === this.published) return;
    await this.options.publish(NodeHealth.encode({ node: this.options.node, at: new Date().toISOString(), sites, services: this.services }).finish());
    this.published = key;
  }

  /** Sites with an applied configuration and no command queued or running for them. */
  private idleSites(): Map<string, SiteConfig> {
    const out = new Map<string, SiteConfig>();
    for (const [site, config] of this.options.fences.appliedConfigs()) if (!this.options.perSite.busy(site)) out.set(site, config);
    return out;
  }
}

/** What makes a snapshot news: everything but latencies. Pure. */
export function transitionKey(sites: readonly SiteHealth[], services: readonly NodeServiceHealth[]): string {
  return JSON.stringify([sites.map(({ probeSeconds: _, ...rest }) => rest), services]);
}
