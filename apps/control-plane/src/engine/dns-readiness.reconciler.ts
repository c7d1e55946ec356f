import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { decideDns, nodeAddresses, type NodeSpec, type Resource, type NodeStatus } from '@pressluft/domain';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CLOCK, CONFIG, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf } from '../resources/resource.store.js';
import { watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { DnsLookup } from './dns-lookup.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';

type NodeLike = Resource<unknown, NodeStatus> | undefined;
const addressesOf = (node: NodeLike): string[] => (node ? nodeAddresses({ spec: node.spec as Pick<NodeSpec, 'address'>, status: node.status }) : []);

/**
 * DNS readiness: a second controller of Sites beside the Site reconciler. For a bound site it
 * resolves every spec.domain (A and AAAA, PRESSLUFT_DNS_SERVERS) and compares the answers with the
 * node's public addresses (libs/domain decideDns): status.dns and the condition DNSReady, written
 * only when more than checkedAt changed. Woken by a change of the site's domains or node, or of
 * the node's addresses; otherwise looked at again in 10 minutes (ready) or 30 s to 5 minutes.
 * Off (not registered) with PRESSLUFT_DNS_SERVERS=none.
 */
@Injectable()
export class DnsReadinessReconciler implements Reconciler, OnApplicationShutdown {
  readonly kind = 'Site';
  readonly name = 'SiteDNSReadiness';
  readonly enabled: boolean;
  readonly watches = [
    watch('Site', ({ object }) => [object.metadata.name], ({ type, object }) => {
      const held = this.cache.site(object.metadata.name);
      return type === 'ADDED' || !held || held.status.nodeName !== object.status.nodeName || !isDeepStrictEqual(held.spec.domains, object.spec.domains);
    }),
    watch('Node', ({ object }) => this.cache.sitesOn(object.metadata.name), ({ object }) => !isDeepStrictEqual(addressesOf(this.cache.node(object.metadata.name)), addressesOf(object))),
  ];
  private readonly dns: DnsLookup | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly cache: InformerCache,
    private readonly leader: LeaderElection,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) config: ControlPlaneConfig,
  ) {
    this.enabled = config.dns !== undefined;
    this.dns = config.dns && new DnsLookup(config.dns.servers);
  }

  onApplicationShutdown(): void {
    this.dns?.cancel();
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const site = this.cache.site(name) ?? (await this.store.get('Site', name));
    const nodeName = site?.status.nodeName;
    if (!this.dns || !site || !nodeName || site.metadata.deletionTimestamp) return {};
    const expected = addressesOf(this.cache.node(nodeName) ?? (await this.store.get('Node', nodeName)));
    const dns = this.dns;
    const lookups = await Promise.all(site.spec.domains.map((domain) => dns.lookup(domain)));
    const now = this.clock.now();
    const decision = decideDns(site.status, expected, lookups, now);
    if (decision.write) {
      await this.leader.transaction(async (tx) => {
        const locked = await tx.get('Site', name, { lock: true });
        // Looked up for other domains or another node: the change that made them wakes this key again.
        if (!locked || locked.metadata.deletionTimestamp || locked.status.nodeName !== nodeName || !isDeepStrictEqual(locked.spec.domains, site.spec.domains)) return;
        const write = decideDns(locked.status, expected, lookups, now).write;
        if (write) await tx.update(locked, { ...writeOf(locked), status: { ...locked.status, dns: write.dns, conditions: write.conditions } }, now);
      });
    }
    return { requeueAfterMs: decision.requeueAfterMs };
  }
}
