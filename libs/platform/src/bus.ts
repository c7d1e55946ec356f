import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

// The bus both planes name: the control plane publishes commands and ingests events on these
// streams and hands a node its subjects at enrollment; the tests' agents use the same names.
export const COMMAND_STREAM = 'PRESSLUFT_COMMANDS';
export const EVENT_STREAM = 'PRESSLUFT_EVENTS';
export const INGEST_CONSUMER = 'control-plane';

export const commandSubject = (node: string) => `pressluft.cmd.${node}`;
/** A node's events go to <prefix>.command|heartbeat|report. */
export const eventSubjectPrefix = (node: string) => `pressluft.evt.${node}`;
export const eventSubject = (node: string, kind: 'command' | 'heartbeat' | 'report' | 'health') => `${eventSubjectPrefix(node)}.${kind}`;
/** The durable pull consumer a node takes its commands from. */
export const nodeDurable = (node: string) => `agent-${node}`;

const NANOS_PER_MS = 1_000_000;
const MIB = 1024 * 1024;

/**
 * Bounds, so that one node cannot fill the store: every subject is one node's (its commands, or
 * one kind of its events), so the per-subject message cap bounds how many one node can hold, the
 * message size cap how large each is, and each stream as a whole is capped in bytes (both fit the
 * smallest store we run, the tests' 1 GB). Past a cap the oldest messages go (a lost command is
 * caught by the stall detector, a lost heartbeat by the next one).
 */
export const STREAM_LIMITS = { max_msg_size: MIB, max_bytes: 256 * MIB, discard: DiscardPolicy.Old } as const;
export const COMMANDS_PER_NODE = 1000;
export const EVENTS_PER_NODE_AND_KIND = 10_000;

/** Creates or updates the two streams, limits included (idempotent; every replica may call it). */
export async function ensureStreams(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const week = 7 * 24 * 3600_000 * NANOS_PER_MS;
  const streams = [
    // Commands: deduplicated by Nats-Msg-Id = command id for 10 minutes; kept a week for slow nodes.
    { name: COMMAND_STREAM, subjects: ['pressluft.cmd.>'], duplicate_window: 10 * 60_000 * NANOS_PER_MS, max_age: week, max_msgs_per_subject: COMMANDS_PER_NODE },
    { name: EVENT_STREAM, subjects: ['pressluft.evt.>'], duplicate_window: 2 * 60_000 * NANOS_PER_MS, max_age: week, max_msgs_per_subject: EVENTS_PER_NODE_AND_KIND },
  ];
  for (const stream of streams) {
    const config = { ...stream, ...STREAM_LIMITS, retention: RetentionPolicy.Limits, storage: StorageType.File, num_replicas: 1 };
    try {
      await jsm.streams.info(stream.name);
      await jsm.streams.update(stream.name, config);
    } catch {
      await jsm.streams.add(config);
    }
  }
}
