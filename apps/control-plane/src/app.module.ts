import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { Logger } from '@pressluft/platform';
import type { DataSource } from 'typeorm';
import { DiscoveryController } from './api/discovery.controller.js';
import { EngineModule } from './engine/engine.module.js';
import { EnrollmentModule } from './enrollment/enrollment.module.js';
import { StatusFilter } from './api/status.filter.js';
import { AuditMiddleware } from './audit/audit.middleware.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { ControlPlaneConfig } from './config/control-plane.config.js';
import { HealthModule } from './health/health.module.js';
import { InfraModule } from './infra/infra.module.js';
import { ResourcesModule } from './resources/resources.module.js';

@Module({})
export class AppModule {
  static forRoot(config: ControlPlaneConfig, logger: Logger, dataSource: DataSource): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfraModule.forRoot(config, logger, dataSource),
        CqrsModule.forRoot(),
        AuthModule,
        HealthModule,
        ResourcesModule,
        EngineModule,
        EnrollmentModule,
        AuditModule,
      ],
      controllers: [DiscoveryController],
      providers: [AuditMiddleware, { provide: APP_FILTER, useClass: StatusFilter }],
    };
  }
}
