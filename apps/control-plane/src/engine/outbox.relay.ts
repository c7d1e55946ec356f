import { Inject, Injectable } from '@nestjs/common';
import { jetstream } from '@nats-io/jetstream';
import { dispatchedCommandStatus, type CommandSpec, type CommandStatus, type Resource } from '@pressluft/domain';
import { BackgroundLoop, type Logger } from '@pressluft/platform';
import { DataSource } from 'typeorm';
import { NatsClient } from '../infra/nats.client.js';
import { CLOCK, LOGGER, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { BusStreams } from './bus-streams.js';
import type { Runnable } from './controller-registry.js';
import { faultPoint } from './faults.js';
import { LeaderElection } from './leader-election.js';
import { markOutboxSent, sentButPending, unsentOutbox } from './outbox.repository.js';

/** NOTIFY channel the command transaction signals so the relay wakes at once. */
export const OUTBOX_CHANNEL = 'pressluft_outbox';
const BATCH = 256;
const IDLE_POLL_MS = 500;

/**
 * Publishes unsent outbox rows to JetStream (Nats-Msg-Id = command id), moves each command that
 * is still PENDING to DISPATCHED (with dispatchedAt), then marks the rows sent. PostgreSQL stays
 * the truth: a crash between publish and mark means the row is published again, JetStream drops
 * the duplicate within its window, and the node's fence rejects it after. A row marked sent has
 * its command dispatched (or already further along), so the stall detector judges every
 * published command by its own status.
 */
@Injectable()
export class OutboxRelay implements Runnable {
  private readonly loop = new BackgroundLoop(() => this.run());

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: ResourceStore,
    private readonly nats: NatsClient,
    private readonly leader: LeaderElection,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly streams: BusStreams,
  ) {}

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Something was written to the outbox: publish now rather than at the next poll. */
  poke(): void {
    this.loop.wake();
  }

  private async run(): Promise<void> {
    if (!(await this.streams.ready(this.loop))) return;
    let caughtUp = false;
    while (this.loop.running) {
      let sent = 0;
      try {
        caughtUp ||= await this.dispatchSentCommands();
        sent = await this.relayOnce();
      } catch (error) {
        this.logger.warn({ err: error }, 'outbox relay: publish failed; retrying');
      }
      if (sent < BATCH) await this.loop.pause(IDLE_POLL_MS);
    }
  }

  /**
   * Once per leadership, before publishing: commands whose rows were published but are still
   * PENDING (sent by a version that did not mark them DISPATCHED) are marked now, so the stall
   * detector watches them too. True once done.
   */
  private async dispatchSentCommands(): Promise<true> {
    const rows = await sentButPending(this.dataSource);
    if (rows.length > 0) await this.markDispatched(new Map(rows.map((row) => [row.command, row.sent_at])));
    return true;
  }

  /** Publishes one batch; the number of rows sent. */
  async relayOnce(): Promise<number> {
    const connection = this.nats.connection();
    if (!connection || connection.isClosed() || !this.leader.leading) return 0;
    const rows = await unsentOutbox(this.dataSource, BATCH);
    if (rows.length === 0) return 0;
    const js = jetstream(connection);
    // Published in order on one connection; the acks are awaited together.
    await Promise.all(rows.map((row) => js.publish(row.subject, row.payload, { msgID: row.command })));
    faultPoint('after-publish');
    const now = this.clock.now();
    await this.markDispatched(new Map(rows.map((row) => [row.command, now])));
    await this.leader.transaction((tx) => markOutboxSent(tx.manager, rows.map((r) => r.id)));
    return rows.length;
  }

  /**
   * PENDING -> DISPATCHED (dispatchedAt: when each was sent): a fact about the bus, not a
   * decision, so it needs no leader fence. The commands are read in one round trip, then each is
   * a compare-and-swap on the command alone (no lock held beside another object's, so no lock
   * order to keep with the event ingest); one that changed meanwhile is decided again in a
   * transaction of its own.
   */
  private async markDispatched(sentAt: ReadonlyMap<string, Date>): Promise<void> {
    const now = this.clock.now();
    const dispatch = async (tx: ResourceTransaction, command: Resource<CommandSpec, CommandStatus> | undefined) => {
      if (!command) return;
      const status = dispatchedCommandStatus(command.status, (sentAt.get(command.metadata.name) ?? now).toISOString());
      if (status !== command.status) await tx.update(command, { ...writeOf(command), status }, now);
    };
    const commands = await this.store.getMany('Command', [...sentAt.keys()]);
    await Promise.all(
      commands.map(async (command) => {
        if (await this.store.optimistically((tx) => dispatch(tx, command))) return;
        await this.store.transaction(async (tx) => dispatch(tx, await tx.get('Command', command.metadata.name, { lock: true })));
      }),
    );
  }
}
