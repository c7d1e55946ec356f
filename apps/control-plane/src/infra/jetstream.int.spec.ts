import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Heartbeat } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The bus guarantees the command path relies on, checked against the real nats-server.
describe('JetStream command bus (real nats-server)', () => {
  let nc: NatsConnection;
  const stream = `PROBE_${process.pid}`;
  const subject = `probe.${process.pid}.cmd.node-a`;

  beforeAll(async () => {
    nc = await connect({ servers: inject('services').nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`probe.${process.pid}.cmd.>`], duplicate_window: 120_000_000_000 });
  });

  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream);
    await nc.close();
  });

  it('suppresses a duplicate publish with the same message id and delivers once to a durable pull consumer', async () => {
    const js = jetstream(nc);
    const payload = Heartbeat.encode({ node: 'node-a', sentAt: '2026-11-29T12:00:00Z', load: 0.25, agentVersion: '0.1.0' }).finish();

    const first = await js.publish(subject, payload, { msgID: 'cmd-0001' });
    const second = await js.publish(subject, payload, { msgID: 'cmd-0001' });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);

    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);

    await jsm.consumers.add(stream, { durable_name: 'node-a', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const consumer = await js.consumers.get(stream, 'node-a');
    const received: Heartbeat[] = [];
    const batch = await consumer.fetch({ max_messages: 10, expires: 1000 });
    for await (const message of batch) {
      received.push(Heartbeat.decode(message.data));
      message.ack();
    }
    expect(received).toEqual([{ node: 'node-a', sentAt: '2026-11-29T12:00:00Z', load: 0.25, agentVersion: '0.1.0' }]);

    // Acked: a second fetch by the same durable finds nothing left.
    const again = await consumer.fetch({ max_messages: 10, expires: 1000 });
    let more = 0;
    for await (const message of again) {
      more += 1;
      message.ack();
    }
    expect(more).toBe(0);
  });
});
