import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import { Pool } from 'pg';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { NatsClient } from './nats.client.js';
import { CONFIG, LOGGER, PG_POOL } from './tokens.js';

/** Owns the adapters' connections (PostgreSQL pool, NATS) and closes them on shutdown. */
@Module({})
export class InfraModule implements OnApplicationShutdown {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly nats: NatsClient,
  ) {}

  static forRoot(config: ControlPlaneConfig, logger: Logger): DynamicModule {
    return {
      module: InfraModule,
      global: true,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        {
          provide: PG_POOL,
          useFactory: () => {
            const pool = new Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: config.readyTimeoutMs });
            // An idle client losing its server must not crash the process; /readyz reports it.
            pool.on('error', (error) => logger.warn({ err: error }, 'PostgreSQL connection lost'));
            return pool;
          },
        },
        { provide: NatsClient, useFactory: () => new NatsClient(config.natsUrl, logger) },
      ],
      exports: [CONFIG, LOGGER, PG_POOL, NatsClient],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.nats.close(), this.pool.end()]);
  }
}
