import { Module } from '@nestjs/common';
import { BackupStoreAccessService } from '../backup-stores/backup-store-access.service.js';
import { SiteSecretAccessService } from '../secrets/site-secret-access.service.js';
import { EngineModule } from '../engine/engine.module.js';
import { ResourcesModule } from '../resources/resources.module.js';
import { EnrollmentGrpcServer } from './enrollment.grpc.js';
import { EnrollmentService } from './enrollment.service.js';
import { JoinTokenService } from './join-token.service.js';
import { JoinTokensController } from './join-tokens.controller.js';
import { NatsAuthorization } from './nats-authorization.service.js';
import { NodeBusConvergence } from './node-bus.convergence.js';

/** Node enrollment: join tokens (REST), the Enrollment gRPC service, and the NATS authorization it maintains. */
@Module({
  imports: [ResourcesModule, EngineModule],
  controllers: [JoinTokensController],
  providers: [BackupStoreAccessService, SiteSecretAccessService, JoinTokenService, NatsAuthorization, EnrollmentService, EnrollmentGrpcServer, NodeBusConvergence],
  exports: [EnrollmentGrpcServer, JoinTokenService],
})
export class EnrollmentModule {}
