import { Module } from '@nestjs/common';
import { Restic } from '../backups/restic.js';
import { ResourcesModule } from '../resources/resources.module.js';
import { BackupRetentionRunner } from './backup-retention.runner.js';
import { BackupScheduleReconciler } from './backup-schedule.reconciler.js';
import { BackupSnapshotsReconciler } from './backup-snapshots.reconciler.js';
import { BackupReconciler } from './backup.reconciler.js';
import { BusStreams } from './bus-streams.js';
import { CertificateReconciler } from './certificate.reconciler.js';
import { CommandsController } from './commands.controller.js';
import { ContentSyncReconciler } from './content-sync.reconciler.js';
import { DnsReadinessReconciler } from './dns-readiness.reconciler.js';
import { listOf, RECONCILERS, RUNNABLES, type Reconciler, type Runnable } from './controller-registry.js';
import { Engine } from './engine.service.js';
import { EventIngest } from './event.ingest.js';
import { HealthIngest } from './health.ingest.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';
import { FleetMetrics } from './fleet.metrics.js';
import { Metrics } from './metrics.js';
import { MetricsController } from './metrics.controller.js';
import { NodeMonitor } from './node.monitor.js';
import { OutboxRelay } from './outbox.relay.js';
import { Pruner } from './pruner.js';
import { ResolveCommandHandler } from './resolve-command.handler.js';
import { PromotionReconciler } from './promotion.reconciler.js';
import { RestoreReconciler } from './restore.reconciler.js';
import { RequestSiteActionHandler } from './site-action.handler.js';
import { SiteActionsController } from './site-actions.controller.js';
import { SiteReconciler } from './site.reconciler.js';
import { StallDetector } from './stall.detector.js';

/** The controllers (a kind may have several, each with its own name): the engine dispatches keys and builds the informer's mapping from these. */
const RECONCILER_TYPES = [SiteReconciler, NodeMonitor, BackupReconciler, RestoreReconciler, ContentSyncReconciler, PromotionReconciler, BackupScheduleReconciler, BackupSnapshotsReconciler, DnsReadinessReconciler, CertificateReconciler];
/** Leader-only background work, started and stopped with the lease. */
const RUNNABLE_TYPES = [OutboxRelay, EventIngest, StallDetector, Pruner, BackupRetentionRunner];

@Module({
  imports: [ResourcesModule],
  controllers: [MetricsController, CommandsController, SiteActionsController],
  providers: [
    LeaderElection,
    Metrics,
    FleetMetrics,
    Restic,
    BusStreams,
    HealthIngest,
    InformerCache,
    ...listOf<Reconciler>(RECONCILERS, RECONCILER_TYPES),
    ...listOf<Runnable>(RUNNABLES, RUNNABLE_TYPES),
    Engine,
    RequestSiteActionHandler,
    ResolveCommandHandler,
  ],
  exports: [LeaderElection, Engine, Metrics, OutboxRelay, EventIngest, StallDetector, Pruner],
})
export class EngineModule {}
