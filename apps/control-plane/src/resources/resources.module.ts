import { Inject, Module } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import type { Logger } from '@pressluft/platform';
import { DataSource } from 'typeorm';
import { BackupStoreSecrets } from '../backup-stores/backup-store.secrets.js';
import { DefaultBackupStore } from '../backup-stores/default-backup-store.js';
import { ResourceSecrets } from '../secrets/resource-secrets.js';
import { SiteSecrets } from '../secrets/site.secrets.js';
import { WriteOnlySecrets } from '../secrets/write-only-secrets.js';
import { CoreEventsController } from '../events/core-events.controller.js';
import { LOGGER } from '../infra/tokens.js';
import { ResourceWritten } from './resource.commands.js';
import { WRITE_HANDLERS } from './resource-write.handlers.js';
import { CommandQueries } from './command.queries.js';
import { ResourceStore } from './resource.store.js';
import { ResourcesController } from './resources.controller.js';
import { WatchHub } from './watch.hub.js';
import { WatchSlots } from './watch-slots.js';

/** What happened, in the log: "Site shop: updated (generation 3, resourceVersion 812) by alice". */
@EventsHandler(ResourceWritten)
export class ResourceWrittenLogger implements IEventHandler<ResourceWritten> {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  handle(event: ResourceWritten): void {
    const { kind, metadata } = event.object;
    if (kind === 'Event') return;
    this.logger.info(
      { kind, name: metadata.name, generation: metadata.generation, resourceVersion: metadata.resourceVersion, subject: event.subject },
      `${kind} ${metadata.name}: ${event.verb}`,
    );
  }
}

@Module({
  controllers: [ResourcesController, CoreEventsController],
  providers: [
    { provide: ResourceStore, useFactory: (dataSource: DataSource) => new ResourceStore(dataSource), inject: [DataSource] },
    { provide: CommandQueries, useFactory: (dataSource: DataSource) => new CommandQueries(dataSource), inject: [DataSource] },
    WatchHub,
    WatchSlots,
    ResourceSecrets,
    BackupStoreSecrets,
    SiteSecrets,
    WriteOnlySecrets,
    DefaultBackupStore,
    ...WRITE_HANDLERS,
    ResourceWrittenLogger,
  ],
  exports: [ResourceStore, CommandQueries, WatchHub, BackupStoreSecrets, SiteSecrets],
})
export class ResourcesModule {}
