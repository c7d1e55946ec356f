import { EventEmitter } from 'node:events';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import pg from 'pg';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CONFIG, LOGGER } from '../infra/tokens.js';
import { CHANGE_CHANNEL, kindsNotified } from './resource.store.js';

/**
 * One LISTEN connection per replica, fanned out to every open watch. A notification only says
 * "something of these kinds committed"; watchers then read the change log themselves, so a lost
 * notification delays a watch (they also poll) but never loses a change.
 */
@Injectable()
export class WatchHub implements OnModuleInit, OnApplicationShutdown {
  private readonly emitter = new EventEmitter();
  private client: pg.Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.emitter.setMaxListeners(0);
  }

  onModuleInit(): void {
    void this.listen();
  }

  /** `listener` gets the kinds that changed, or undefined when any may have (after a reconnect, or an older replica's notification). */
  subscribe(listener: (kinds: ReadonlySet<string> | undefined) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.config.databaseUrl, connectionTimeoutMillis: 5000 });
    client.on('notification', (message) => this.emitter.emit('change', kindsNotified(message.payload)));
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'watch LISTEN connection lost; reconnecting');
      this.reconnect(client);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      this.client = client;
      // Changes may have committed while we were not listening.
      this.emitter.emit('change');
    } catch {
      this.reconnect(client);
    }
  }

  private reconnect(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.listen();
    }, 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.emitter.removeAllListeners();
    await this.client?.end().catch(() => undefined);
  }
}
