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
  readonly outboxLag = new Gauge({ name: 'pressluft_outbox_unsent', help: 'Outbox rows not yet published', registers: [this.registry] });
  readonly outboxOldestSeconds = new Gauge({ name: 'pressluft_outbox_oldest_unsent_seconds', help: 'Age of the oldest unsent outbox row', registers: [this.registry] });
  readonly commands = new Gauge({ name: 'pressluft_commands', help: 'Commands by state', labelNames: ['state'], registers: [this.registry] });
  readonly heartbeatAge = new Gauge({ name: 'pressluft_node_heartbeat_age_seconds', help: 'Seconds since each node last sent a heartbeat', labelNames: ['node'], registers: [this.registry] });
  readonly leader = new Gauge({ name: 'pressluft_leader', help: '1 while this replica holds the controller lease', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pressluft_process_' });
  }
}
