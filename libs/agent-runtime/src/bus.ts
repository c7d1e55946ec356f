import { jetstream } from '@nats-io/jetstream';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@pressluft/platform';
import { CommandEvent, type CommandRef } from '@pressluft/proto';

/** Where the node's commands and events are on the bus (the enrollment answer). */
export interface BusSettings {
  readonly url: string;
  readonly stream: string;
  readonly durable: string;
  /** pressluft.evt.<node>: events go to <prefix>.command|heartbeat|report|health. */
  readonly eventSubjectPrefix: string;
  readonly inboxPrefix: string;
  /** Mutual TLS (PEM): the node's own key and certificate, and the CA that signed the server's. Without it: a plain connection (tests). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

/**
 * Dials the bus. Right after enrollment the bus may not know this node yet (its authorization is
 * reloaded asynchronously): an authorization refusal is retried, like a server that is not up yet.
 */
export async function connectToBus(bus: BusSettings, node: string, logger: Logger): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: bus.url,
    name: `pressluft-agent-${node}`,
    inboxPrefix: bus.inboxPrefix,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    ...(bus.tls ? { tls: { cert: bus.tls.cert, key: bus.tls.key, ca: bus.tls.ca } } : {}),
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(options);
    } catch (error) {
      if (attempt >= 30) throw error;
      logger.warn({ err: error, attempt }, 'agent: cannot connect to the bus yet; retrying');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * One CommandEvent; its message id (default `<command>#<sequence>`) makes a republished event a
 * duplicate. The id is scoped by the node's own subject (which no other node may publish on),
 * so another node cannot take it first and have JetStream drop this node's event as a duplicate.
 */
export async function publishCommandEvent(
  nc: NatsConnection,
  bus: Pick<BusSettings, 'eventSubjectPrefix'>,
  ref: CommandRef,
  sequence: number,
  kind: CommandEvent['kind'],
  msgID = `${ref.id}#${sequence}`,
): Promise<void> {
  const subject = `${bus.eventSubjectPrefix}.command`;
  const event = CommandEvent.encode({ ref, sequence, at: new Date().toISOString(), kind }).finish();
  await jetstream(nc).publish(subject, event, { msgID: `${subject}/${msgID}` });
}

/** A heartbeat, NodeReport or NodeHealth, already encoded. */
export async function publishNodeEvent(nc: NatsConnection, bus: BusSettings, kind: 'heartbeat' | 'report' | 'health', payload: Uint8Array): Promise<void> {
  await jetstream(nc).publish(`${bus.eventSubjectPrefix}.${kind}`, payload);
}
