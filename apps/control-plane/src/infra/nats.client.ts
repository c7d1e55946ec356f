import { connect, type NatsConnection, type TlsOptions } from '@nats-io/transport-node';
import type { Logger } from '@pressluft/platform';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { loadOrCreateNatsClientPki } from '../pki/pki.store.js';

/**
 * The TLS client options for the control plane's NATS connection: the configured files, or a
 * client certificate (CN=pressluft-control-plane) the control plane issues itself from its CA
 * when the URL is tls:// without files; none for nats://.
 */
export async function natsTlsOptions(config: Pick<ControlPlaneConfig, 'natsTls' | 'pkiDir'>, now: Date): Promise<TlsOptions | undefined> {
  const tls = config.natsTls;
  if (tls === undefined) return undefined;
  if (tls === 'self-issued') {
    const pki = await loadOrCreateNatsClientPki(config.pkiDir, now);
    return { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key };
  }
  return { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile };
}

/**
 * The control plane's NATS connection. Boot never waits for NATS: the client keeps dialling
 * in the background (and reconnecting forever afterwards); until it is connected,
 * `connection()` is undefined and /readyz answers 503.
 */
export class NatsClient {
  private current: NatsConnection | undefined;
  private closed = false;
  private readonly connecting: Promise<void>;

  constructor(url: string, logger: Logger, tls?: TlsOptions) {
    this.connecting = connect({
      servers: url,
      ...(tls ? { tls } : {}),
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
