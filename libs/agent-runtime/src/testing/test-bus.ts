import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerConfig } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Command } from '@pressluft/proto';
import type { BusSettings } from '../bus.js';

/**
 * A private corner of a real NATS server for one spec of the runtime: a command and an event
 * stream under a fresh subject prefix, the node's durable pull consumer, the Agent's bus settings
 * (plain connection), a way to publish commands, and the clean-up.
 */
export class TestBus {
  private constructor(
    readonly nc: NatsConnection,
    readonly prefix: string,
    readonly node: string,
    readonly settings: BusSettings,
  ) {}

  /** `consumer`: settings beside the defaults (explicit acks, deliver all), e.g. a short ack_wait. */
  static async start(url: string, label: string, node: string, consumer: Partial<ConsumerConfig> = {}): Promise<TestBus> {
    const prefix = `${label}${randomBytes(3).toString('hex')}`;
    const nc = await connect({ servers: url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${prefix}_CMD`, subjects: [`${prefix}.cmd.>`] });
    await jsm.streams.add({ name: `${prefix}_EVT`, subjects: [`${prefix}.evt.>`] });
    await jsm.consumers.add(`${prefix}_CMD`, { durable_name: `agent-${node}`, filter_subject: `${prefix}.cmd.${node}`, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...consumer });
    const settings: BusSettings = { url, stream: `${prefix}_CMD`, durable: `agent-${node}`, eventSubjectPrefix: `${prefix}.evt.${node}`, inboxPrefix: '_INBOX' };
    return new TestBus(nc, prefix, node, settings);
  }

  /** The subject of the node's events of `kind` (command, heartbeat, report, health). */
  events(kind: string): string {
    return `${this.settings.eventSubjectPrefix}.${kind}`;
  }

  /** Publishes a command for `site` on the node's subject as the outbox relay would. */
  async send(site: string, id: string, fence: number, payload: Command['payload'], msgID = `${id}@${fence}`): Promise<void> {
    const data = Command.encode(Command.fromPartial({ ref: { id, node: this.node, site, fence }, payload })).finish();
    await jetstream(this.nc).publish(`${this.prefix}.cmd.${this.node}`, data, { msgID });
  }

  /** Deletes both streams and closes the connection. */
  async close(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await jsm.streams.delete(`${this.prefix}_CMD`).catch(() => undefined);
    await jsm.streams.delete(`${this.prefix}_EVT`).catch(() => undefined);
    await this.nc.close();
  }
}
