import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@pressluft/platform';

/**
 * The control plane's NATS connection. Boot never waits for NATS: the client keeps dialling
 * in the background (and reconnecting forever afterwards); until it is connected,
 * `connection()` is undefined and /readyz answers 503.
 */
export class NatsClient {
  private current: NatsConnection | undefined;
  private closed = false;
  private readonly connecting: Promise<void>;

  constructor(url: string, logger: Logger) {
    this.connecting = connect({
      servers: url,
      name: 'pressluft-control-plane',
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    }).then(
      async (connection) => {
        if (this.closed) {
          await connection.close();
          return;
        }
        this.current = connection;
        logger.info({ server: connection.getServer() }, 'NATS connected');
      },
      (error: unknown) => logger.error({ err: error }, 'NATS connection failed for good'),
    );
  }

  connection(): NatsConnection | undefined {
    return this.current;
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.current;
    this.current = undefined;
    if (connection && !connection.isClosed()) await connection.drain();
    await this.connecting;
  }
}
