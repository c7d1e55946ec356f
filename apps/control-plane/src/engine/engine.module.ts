import { Module } from '@nestjs/common';
import { ResourcesModule } from '../resources/resources.module.js';
import { CommandsController } from './commands.controller.js';
import { Engine } from './engine.service.js';
import { EventIngest } from './event.ingest.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';
import { Metrics } from './metrics.js';
import { MetricsController } from './metrics.controller.js';
import { NodeMonitor } from './node.monitor.js';
import { OutboxRelay } from './outbox.relay.js';
import { ResolveCommandHandler } from './resolve-command.handler.js';
import { RequestSiteActionHandler } from './site-action.handler.js';
import { SiteActionsController } from './site-actions.controller.js';
import { SiteReconciler } from './site.reconciler.js';
import { StallDetector } from './stall.detector.js';

@Module({
  imports: [ResourcesModule],
  controllers: [MetricsController, CommandsController, SiteActionsController],
  providers: [LeaderElection, Metrics, OutboxRelay, EventIngest, InformerCache, SiteReconciler, NodeMonitor, StallDetector, Engine, RequestSiteActionHandler, ResolveCommandHandler],
  exports: [LeaderElection, Engine, Metrics, OutboxRelay, EventIngest, StallDetector],
})
export class EngineModule {}
