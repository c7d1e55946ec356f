import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { LOGGER } from '../infra/tokens.js';
import { readFleetSnapshot, type FleetSnapshot } from './fleet-metrics.repository.js';
import { FLEET_GAUGES } from './fleet-samples.js';
import { Metrics } from './metrics.js';

/**
 * The fleet as the state store has it (sites by phase, node readiness, commands by state,
 * backups, outbox, lease epoch), read on each scrape rather than kept by the engine: the numbers
 * are right on every replica, leader or not, and stay right while the loop that would update
 * them hangs (a relay stuck on NATS must show a growing outbox, not its last value).
 */
@Injectable()
export class FleetMetrics {
  private pending: Promise<FleetSnapshot | undefined> | undefined;

  constructor(
    metrics: Metrics,
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const read = (): Promise<FleetSnapshot | undefined> => this.snapshot();
    const up: Gauge = new Gauge({
      name: 'pressluft_fleet_metrics_up',
      help: '1 when this scrape could read the fleet from the state store (else the fleet series are missing)',
      registers: [metrics.registry],
      collect: async () => up.set((await read()) ? 1 : 0),
    });
    for (const definition of FLEET_GAUGES) {
      const gauge: Gauge = new Gauge({
        name: definition.name,
        help: definition.help,
        labelNames: [...definition.labelNames],
        registers: [metrics.registry],
        collect: async () => {
          const snapshot = await read();
          gauge.reset();
          if (!snapshot) return;
          for (const sample of definition.samples(snapshot)) gauge.set(sample.labels, sample.value);
        },
      });
    }
  }

  /** One read per scrape: the gauges' collects start together and share it. */
  private snapshot(): Promise<FleetSnapshot | undefined> {
    this.pending ??= readFleetSnapshot(this.dataSource)
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'metrics: could not read the fleet from the state store');
        return undefined;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
