import { Inject, Injectable } from '@nestjs/common';
import { applyNodeServices, applyServiceRestarts, applySiteHealth, SERVICE_CONDITIONS, siteHealthOf, type HealthEvent, type Resource, type SiteHealthStatus } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import type { NodeHealth, SiteHealth } from '@pressluft/proto';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, LOGGER, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { LeaderElection } from './leader-election.js';
import { Metrics } from './metrics.js';

/** Sites of one snapshot looked at, at most (a node holds far fewer). */
const MAX_SITES = 2000;

/**
 * NodeHealth snapshots from pressluft.evt.<node>.health (EventIngest decodes and hands them
 * over): each is the whole picture of one node, published on every change and with every
 * report. A node speaks only about itself and only about sites bound to it (and not being
 * deleted). The rules are libs/domain site-health.ts: the Node's NginxReady, MariaDBReady and
 * RedisReady conditions; each Site's status.health, Ready (NotServing / Serving) and
 * CrashLooping conditions, with their events. Written only when something changed (probe
 * latency never is), in leader transactions; a snapshot older than the newest this replica
 * applied for the node, or than what a site stores, is skipped. The latest snapshot also feeds
 * the pressluft_site_* and pressluft_node_service_* metrics.
 */
@Injectable()
export class HealthIngest {
  /** The newest snapshot time applied per node (a redelivery of an older one is skipped). */
  private readonly newest = new Map<string, number>();
  /** Per node, the sites and services its last snapshot set series for. */
  private readonly exported = new Map<string, { sites: Set<string>; services: Set<string> }>();

  constructor(
    private readonly store: ResourceStore,
    private readonly leader: LeaderElection,
    private readonly metrics: Metrics,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ingest(node: string, health: NodeHealth): Promise<void> {
    const at = Date.parse(health.at);
    if (health.node !== node || !Number.isFinite(at)) {
      this.logger.warn({ node }, 'health ingest: a snapshot about another node or without a time; dropped');
      return;
    }
    if (at < (this.newest.get(node) ?? -Infinity)) return;
    const observedAt = new Date(at).toISOString();
    const now = this.clock.now();

    await this.leader.transaction(async (tx) => {
      const current = await tx.get('Node', node, { lock: true });
      if (!current) return;
      const change = applyNodeServices(current.status.conditions, node, health.services, now);
      const restarts = applyServiceRestarts(current.status.serviceRestarts, node, health.services);
      if (!change && !restarts) return;
      const status = { ...current.status, ...(change ? { conditions: change.conditions } : {}), ...(restarts ? { serviceRestarts: restarts.restarts } : {}) };
      const updated = await tx.update(current, { ...writeOf(current), status }, now);
      await record(tx, updated, [...(change?.events ?? []), ...(restarts?.events ?? [])], now);
    });

    const samples = new Map(health.sites.slice(0, MAX_SITES).map((s) => [s.name, s]));
    const bound = new Map<string, SiteHealth>();
    // One unlocked read for all; a site is locked and written only when its sample changes it.
    for (const site of await this.store.getMany('Site', [...samples.keys()])) {
      const sample = samples.get(site.metadata.name);
      if (!sample || site.status.nodeName !== node || site.metadata.deletionTimestamp) continue;
      bound.set(site.metadata.name, sample);
      const sampled = siteHealthOf(sample, observedAt);
      if (applySiteHealth(site.status, node, sampled, now)) await this.applySite(site.metadata.name, node, sampled, now);
    }
    this.newest.set(node, at);
    this.export(node, bound, health);
  }

  /** Drops every series: called when this replica stops ingesting (only the leader exports them). */
  forget(): void {
    for (const [node, { sites, services }] of this.exported) {
      for (const site of sites) this.removeSite(node, site);
      for (const service of services) this.removeService(node, service);
    }
    this.exported.clear();
    this.newest.clear();
  }

  private async applySite(name: string, node: string, sampled: SiteHealthStatus, now: Date): Promise<void> {
    await this.leader.transaction(async (tx) => {
      const site = await tx.get('Site', name, { lock: true });
      if (!site || site.status.nodeName !== node || site.metadata.deletionTimestamp) return;
      const change = applySiteHealth(site.status, node, sampled, now);
      if (!change) return;
      const updated = await tx.update(site, { ...writeOf(site), status: change.status }, now);
      await record(tx, updated, change.events, now);
    });
  }

  private export(node: string, bound: ReadonlyMap<string, SiteHealth>, health: NodeHealth): void {
    const before = this.exported.get(node);
    for (const [site, sample] of bound) {
      const labels = { node, site };
      if (sample.state === 'SERVING' || sample.state === 'NOT_SERVING') {
        this.metrics.siteUp.set(labels, sample.state === 'SERVING' ? 1 : 0);
        if (Number.isFinite(sample.probeSeconds) && sample.probeSeconds >= 0) this.metrics.siteProbeSeconds.set(labels, sample.probeSeconds);
      } else {
        this.metrics.siteUp.remove(labels);
        this.metrics.siteProbeSeconds.remove(labels);
      }
      this.metrics.siteFpmRestarts.set(labels, sample.restarts);
      this.metrics.siteCrashLooping.set(labels, sample.crashLooping ? 1 : 0);
    }
    const services = new Set<string>();
    for (const service of health.services) {
      if (!SERVICE_CONDITIONS[service.name]) continue;
      services.add(service.name);
      this.metrics.nodeServiceUp.set({ node, service: service.name }, service.up ? 1 : 0);
      this.metrics.nodeServiceRestarts.set({ node, service: service.name }, service.restarts);
    }
    for (const site of before?.sites ?? []) if (!bound.has(site)) this.removeSite(node, site);
    for (const service of before?.services ?? []) if (!services.has(service)) this.removeService(node, service);
    this.exported.set(node, { sites: new Set(bound.keys()), services });
  }

  private removeSite(node: string, site: string): void {
    for (const gauge of [this.metrics.siteUp, this.metrics.siteProbeSeconds, this.metrics.siteFpmRestarts, this.metrics.siteCrashLooping]) gauge.remove({ node, site });
  }

  private removeService(node: string, service: string): void {
    this.metrics.nodeServiceUp.remove({ node, service });
    this.metrics.nodeServiceRestarts.remove({ node, service });
  }
}

async function record(tx: ResourceTransaction, involved: Resource, events: readonly HealthEvent[], now: Date): Promise<void> {
  for (const event of events) await recordEvent(tx, involved, event.type, event.reason, event.message, now);
}
