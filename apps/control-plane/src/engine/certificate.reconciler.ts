import { X509Certificate } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  CERTIFICATE_READY,
  findCondition,
  planCertificate,
  setCondition,
  siteTls,
  siteUrl,
  type CertificateCommandView,
  type CertificateCondition,
  type CertificateObservation,
  type CertificatePlan,
  type Condition,
  type SiteStatus,
} from '@pressluft/domain';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, CONFIG, type Clock } from '../infra/tokens.js';
import { CommandQueries } from '../resources/command.queries.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { lockIdleSite, observeRunSite } from './backup-runs.js';
import { issueCommand, type Site } from './command.issuer.js';
import { own, watch, type Reconciler, type ReconcileResult } from './controller-registry.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';
import { OutboxRelay } from './outbox.relay.js';

/**
 * sha256 (lowercase hex) of the leaf (the first certificate) of a PEM chain; undefined when it
 * does not parse. What the node reports for the certificate it serves, so the two compare.
 */
export function leafFingerprint(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Sites' certificates (libs/domain planCertificate decides): a second controller of Sites beside
 * the Site reconciler. An ACTIVE, idle site whose certificate is missing, for other domains, due
 * for renewal or not the spec's gets IssueCertificate beside its phase (fenced, the site row
 * locked, status.certificate.command naming it); the command's outcome is recorded in
 * status.certificate (with the backoff of a failure), the condition CertificateReady and, for an
 * installed certificate, an https status.url. Woken by its site's changes and its
 * IssueCertificate commands and its node; requeued for a renewal or the end of a backoff.
 */
@Injectable()
export class CertificateReconciler implements Reconciler {
  readonly kind = 'Site';
  readonly name = 'SiteCertificate';
  readonly watches = [
    own('Site'),
    watch('Command', ({ object }) => [object.spec.site], ({ object }) => object.spec.operation === 'IssueCertificate'),
    // Only a change of the node's readiness (asked before the cache takes the change in), not every heartbeat.
    watch('Node', ({ object }) => this.cache.sitesOn(object.metadata.name), ({ object }) => nodeReady(object) !== nodeReady(this.cache.node(object.metadata.name))),
  ];

  constructor(
    private readonly store: ResourceStore,
    private readonly commands: CommandQueries,
    private readonly cache: InformerCache,
    private readonly leader: LeaderElection,
    private readonly relay: OutboxRelay,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const site = this.cache.site(name) ?? (await this.store.get('Site', name));
    if (!site) return {};
    const plan = planCertificate(await this.observe(site));
    if (plan.type === 'none') return {};
    const requeue = plan.type === 'settle' && plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
    if (plan.type === 'settle' && saysAlready(site.status, plan.condition)) return requeue;
    const issued = await this.leader.transaction(async (tx) => {
      const fresh = await tx.get('Site', name, { lock: true });
      // A concurrent change wakes this again; it is planned anew then.
      if (!fresh || fresh.metadata.resourceVersion !== site.metadata.resourceVersion) return false;
      return this.apply(tx, fresh, plan, this.clock.now());
    });
    if (issued) this.relay.poke();
    return requeue;
  }

  private async observe(site: Site): Promise<CertificateObservation> {
    const view = await observeRunSite(site.metadata.name, this.cache, this.store, this.commands);
    const tls = siteTls(site.spec);
    const pending = site.status.certificate?.command;
    const nodeName = site.status.nodeName;
    const node = nodeName ? (this.cache.node(nodeName) ?? (await this.store.get('Node', nodeName))) : undefined;
    return {
      site: {
        name: site.metadata.name,
        phase: site.status.phase,
        deleting: site.metadata.deletionTimestamp !== undefined,
        bound: Boolean(nodeName),
        nodeReady: nodeReady(node),
        busy: view?.busy ?? true,
        generation: site.metadata.generation,
        observedGeneration: site.status.observedGeneration,
      },
      domains: site.spec.domains,
      tls,
      customFingerprint: tls.custom ? leafFingerprint(tls.custom.certificate) : undefined,
      status: site.status.certificate,
      dnsReady: findCondition(site.status.conditions, 'DNSReady')?.status,
      acmeConfigured: this.config.certificates.acme !== undefined,
      command: pending ? await this.commandView(pending) : undefined,
      now: this.clock.now(),
    };
  }

  private async commandView(name: string): Promise<CertificateCommandView | undefined> {
    const command = await this.store.get('Command', name);
    if (!command?.spec.certificate) return undefined;
    const { state, reason, message, retryAfterSeconds, certificate } = command.status;
    return {
      name,
      action: command.spec.certificate,
      state,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      ...(certificate ? { certificate } : {}),
    };
  }

  /** Carries out the plan on the locked site; true when a command was issued. */
  private async apply(tx: ResourceTransaction, site: Site, plan: Exclude<CertificatePlan, { type: 'none' }>, now: Date): Promise<boolean> {
    const write = (status: SiteStatus): Promise<Site> => tx.update(site, { ...writeOf(site), status }, now);
    const ready = (condition: CertificateCondition) => setCondition(site.status.conditions, { type: CERTIFICATE_READY, ...condition }, now);
    switch (plan.type) {
      case 'settle':
        await write({ ...site.status, conditions: ready(plan.condition) });
        return false;
      case 'record': {
        const url = siteUrl(site.spec.domains, plan.status.installed, siteTls(site.spec).mode, this.config.certificates.sitesHttpsPort);
        const updated = await write({ ...site.status, certificate: plan.status, conditions: ready(plan.condition), ...(url ? { url } : {}) });
        await recordEvent(tx, updated, plan.event.type, plan.event.reason, plan.event.message, now);
        return false;
      }
      case 'issue': {
        const locked = await lockIdleSite(tx, site.metadata.name, ['ACTIVE']);
        if ('why' in locked) return false;
        const acme = this.config.certificates.acme;
        const command = await issueCommand(tx, locked.site, locked.node, 'IssueCertificate', 'ACTIVE', now, { certificate: plan.certificate, ...(acme ? { acme } : {}) });
        // issueCommand wrote the site (fence, Reconciling): the certificate's part goes on top of that.
        const issued = await tx.get('Site', site.metadata.name, { lock: true });
        if (!issued) throw new Error(`site ${site.metadata.name} vanished inside its own transaction`);
        const certificate = { failures: 0, ...issued.status.certificate, command: command.metadata.name, lastAttemptAt: now.toISOString() };
        const conditions = setCondition(issued.status.conditions, { type: CERTIFICATE_READY, ...plan.condition }, now);
        await tx.update(issued, { ...writeOf(issued), status: { ...issued.status, certificate, conditions } }, now);
        return true;
      }
    }
  }
}

function nodeReady(node: { status: { conditions: readonly Condition[] } } | undefined): boolean {
  return node !== undefined && findCondition(node.status.conditions, 'Ready')?.status === 'True';
}

function saysAlready(status: SiteStatus, condition: CertificateCondition): boolean {
  const current = findCondition(status.conditions, CERTIFICATE_READY);
  return current !== undefined && current.status === condition.status && current.reason === condition.reason && current.message === condition.message;
}
