import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import { DataSource } from 'typeorm';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { NatsClient, natsTlsOptions } from './nats.client.js';
import { CLOCK, CONFIG, LOGGER, type Clock } from './tokens.js';

const systemClock: Clock = { now: () => new Date() };

/** Shares the adapters' connections (PostgreSQL via TypeORM, NATS) and closes them on shutdown. */
@Module({})
export class InfraModule implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsClient,
  ) {}

  static forRoot(config: ControlPlaneConfig, logger: Logger, dataSource: DataSource): DynamicModule {
    return {
      module: InfraModule,
      global: true,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: CLOCK, useValue: systemClock },
        { provide: DataSource, useValue: dataSource },
        { provide: NatsClient, useFactory: async () => new NatsClient(config.natsUrl, logger, await natsTlsOptions(config, new Date())) },
      ],
      exports: [CONFIG, LOGGER, CLOCK, DataSource, NatsClient],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.nats.close(), this.dataSource.isInitialized ? this.dataSource.destroy() : Promise.resolve()]);
  }
}
