import { Inject, Injectable } from '@nestjs/common';
import { ensureStreams, type BackgroundLoop, type Logger } from '@pressluft/platform';
import { NatsClient } from '../infra/nats.client.js';
import { LOGGER } from '../infra/tokens.js';

/** The relay publishes and the ingest consumes only once the streams exist; NATS may come later than we do. */
@Injectable()
export class BusStreams {
  private attempt: Promise<void> | undefined;

  constructor(
    private readonly nats: NatsClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Resolves true once the streams exist, false when `loop` stopped first. */
  async ready(loop: BackgroundLoop): Promise<boolean> {
    while (loop.running) {
      const connection = this.nats.connection();
      if (connection && !connection.isClosed()) {
        try {
          // Callers waiting at the same time share one attempt.
          await (this.attempt ??= ensureStreams(connection).finally(() => (this.attempt = undefined)));
          return true;
        } catch (error) {
          this.logger.warn({ err: error }, 'engine: JetStream streams not ready yet');
        }
      }
      await loop.pause(500);
    }
    return false;
  }
}
