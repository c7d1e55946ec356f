import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The control plane's Prometheus metrics (one registry per application instance). */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: 'pressluft_reconciles_total', help: 'Reconciles by kind and outcome', labelNames: ['kind', 'outcome'], registers: [this.registry] });
  readonly reconcileSeconds = new Histogram({
    name: 'pressluft_reconcile_duration_seconds',
    help: 'Reconcile duration',
    labelNames: ['kind'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'pressluft_work_queue_depth', help: 'Keys waiting in the work queue', labelNames: ['kind'], registers: [this.registry] });
  readonly heartbeatAge = new Gauge({ name: 'pressluft_node_heartbeat_age_seconds', help: 'Seconds since each node last sent a heartbeat', labelNames: ['node'], registers: [this.registry] });
  // Site and node health from the agents' NodeHealth snapshots (engine/health.ingest.ts): only the
  // leader ingests, so only the leader exports these; a replica that stops ingesting drops them.
  readonly siteUp = new Gauge({ name: 'pressluft_site_up', help: '1 while the site serves on its node, 0 while it does not (no series while unknown)', labelNames: ['node', 'site'], registers: [this.registry] });
  readonly siteFpmRestarts = new Gauge({ name: 'pressluft_site_fpm_restarts', help: "Restarts of the site's PHP-FPM master by its agent since the agent started", labelNames: ['node', 'site'], registers: [this.registry] });
  readonly siteCrashLooping = new Gauge({ name: 'pressluft_site_crash_looping', help: "1 while the site's PHP-FPM master crash-loops (restarted after a growing backoff)", labelNames: ['node', 'site'], registers: [this.registry] });
  readonly siteProbeSeconds = new Gauge({ name: 'pressluft_site_probe_seconds', help: "How long the agent's last probe of the site took", labelNames: ['node', 'site'], registers: [this.registry] });
  readonly nodeServiceUp = new Gauge({ name: 'pressluft_node_service_up', help: '1 while a service of the node (nginx, mariadb, redis) runs', labelNames: ['node', 'service'], registers: [this.registry] });
  readonly nodeServiceRestarts = new Gauge({ name: 'pressluft_node_service_restarts', help: 'Restarts of a node service by its agent since the agent started', labelNames: ['node', 'service'], registers: [this.registry] });
  readonly leader = new Gauge({ name: 'pressluft_leader', help: '1 while this replica holds the controller lease', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pressluft_process_' });
  }
}
