import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { compareFence } from '@pressluft/domain';
import { COMMAND_STREAM, commandSubject, ensureStreams, eventSubject } from '@pressluft/platform';
import { Command, CommandEvent, Heartbeat, NodeReport } from '@pressluft/proto';

/** How the stand-in agent answers a command: run and report success or failure; start and go silent (hang); take it and never answer (ignore). */
export type AgentBehaviour = 'succeed' | 'fail' | 'hang' | 'ignore';

export interface ReceivedCommand {
  readonly command: Command;
  readonly verdict: 'apply' | 'duplicate' | 'stale';
}

/**
 * A small agent speaking the real proto over the real NATS server, for the engine's tests until
 * the node agent exists: a durable pull consumer on pressluft.cmd.<node>, fencing per site (in
 * memory), accepted/progress/succeeded|failed events with sequence numbers, and heartbeats.
 */
export class TestAgent {
  readonly received: ReceivedCommand[] = [];
  behaviour: AgentBehaviour = 'succeed';
  /** Sent with every success as the site's complete fingerprints (what it applied); none when undefined. */
  fingerprints: Record<string, string> | undefined;
  private readonly highest = new Map<string, number>();
  private messages: ConsumerMessages | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;

  private constructor(
    readonly node: string,
    private readonly nc: NatsConnection,
  ) {}

  static async start(natsUrl: string, node: string, options: { heartbeatMs?: number } = {}): Promise<TestAgent> {
    const nc = await connect({ servers: natsUrl, name: `test-agent-${node}` });
    // The control plane creates the streams when it becomes leader; the agent may be first.
    await ensureStreams(nc);
    const agent = new TestAgent(node, nc);
    await agent.consume();
    // A heartbeat racing stop() fails on the closed connection; that is not an error of the test.
    agent.heartbeat = setInterval(() => void agent.sendHeartbeat().catch(() => undefined), options.heartbeatMs ?? 500);
    await agent.sendHeartbeat();
    return agent;
  }

  /** Stops heartbeats and consumption (the node goes silent), keeping the connection for publishing. */
  silence(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  async stop(): Promise<void> {
    this.silence();
    await this.messages?.close();
    await this.loop;
    await this.nc.close();
  }

  async sendHeartbeat(): Promise<void> {
    const payload = Heartbeat.encode({ node: this.node, sentAt: new Date().toISOString(), load: 0.1, agentVersion: 'test-agent/1' }).finish();
    await jetstream(this.nc).publish(eventSubject(this.node, 'heartbeat'), payload);
  }

  /** Publishes a NodeReport on this node's subject (its body names `node`, normally this one). */
  async sendReport(sites: NodeReport['sites'], options: { node?: string; cpus?: number } = {}): Promise<void> {
    const report = NodeReport.encode({
      node: options.node ?? this.node,
      at: new Date().toISOString(),
      load: 0.1,
      agentVersion: 'test-agent/1',
      cpus: options.cpus ?? 2,
      memoryBytes: 4 * 1024 ** 3,
      sites,
      versions: {},
    }).finish();
    await jetstream(this.nc).publish(eventSubject(this.node, 'report'), report);
  }

  /** Publishes one event about a command with an explicit sequence (tests also replay and reorder). */
  async sendEvent(command: Command, sequence: number, kind: CommandEvent['kind']): Promise<void> {
    const event = CommandEvent.encode({ ref: command.ref, sequence, at: new Date().toISOString(), kind }).finish();
    await jetstream(this.nc).publish(eventSubject(this.node, 'command'), event, { msgID: `${command.ref?.id ?? ''}#${sequence}` });
  }

  private async consume(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const durable = `agent-${this.node}`;
    await jsm.consumers.add(COMMAND_STREAM, { durable_name: durable, filter_subject: commandSubject(this.node), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const consumer = await jetstream(this.nc).consumers.get(COMMAND_STREAM, durable);
    this.messages = await consumer.consume({ max_messages: 16 });
    const messages = this.messages;
    this.loop = (async () => {
      for await (const message of messages) {
        const command = Command.decode(message.data);
        const site = command.ref?.site ?? '';
        const fence = command.ref?.fence ?? 0;
        const verdict = compareFence(fence, this.highest.get(site));
        this.received.push({ command, verdict });
        if (verdict === 'stale') {
          await this.sendEvent(command, 1, { $case: 'rejected', value: { reason: 'StaleFence', message: `fence ${fence} is older than ${this.highest.get(site) ?? 0}` } });
        } else if (verdict === 'apply') {
          this.highest.set(site, fence);
          await this.run(command);
        }
        message.ack();
      }
    })();
  }

  private async run(command: Command): Promise<void> {
    const behaviour = this.behaviour;
    if (behaviour === 'ignore') return;
    await this.sendEvent(command, 1, { $case: 'accepted', value: {} });
    await this.sendEvent(command, 2, { $case: 'progress', value: { step: 'converge', percent: 50 } });
    switch (behaviour) {
      case 'succeed': {
        const site = this.fingerprints ? { currentRelease: '', releases: [], fingerprints: this.fingerprints, fingerprintsComplete: true } : undefined;
        await this.sendEvent(command, 3, { $case: 'succeeded', value: { message: 'converged', ...(site ? { site } : {}) } });
        return;
      }
      case 'fail':
        await this.sendEvent(command, 3, { $case: 'failed', value: { reason: 'StepFailed', message: 'the test agent was told to fail' } });
        return;
      case 'hang':
        return;
    }
  }
}
