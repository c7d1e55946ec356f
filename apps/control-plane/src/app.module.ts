import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import { LoggerModule } from 'nestjs-pino';
import type { ControlPlaneConfig } from './config/control-plane.config.js';
import { HealthModule } from './health/health.module.js';
import { InfraModule } from './infra/infra.module.js';

@Module({})
export class AppModule {
  static forRoot(config: ControlPlaneConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            // Probes would drown everything else.
            autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
          },
        }),
        InfraModule.forRoot(config, logger),
        HealthModule,
      ],
    };
  }
}
