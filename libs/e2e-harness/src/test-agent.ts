import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Agent, FenceStore, publishCommandEvent, type HostSiteIdentity } from '@pressluft/agent-runtime';
import { ScriptedHost, type ScriptedCall } from '@pressluft/agent-runtime/testing';
import type { FenceVerdict } from '@pressluft/domain';
import { COMMAND_STREAM, commandSubject, createLogger, ensureStreams, eventSubject, eventSubjectPrefix, nodeDurable } from '@pressluft/platform';
import { Heartbeat, NodeHealth, NodeReport, type Command, type CommandEvent } from '@pressluft/proto';

/**
 * How the node answers a command: run it and report success or failure; start it and go silent
 * (hang); take it and never answer (ignore: the runtime runs it, its events never reach the bus);
 * run it slowly, with progress and log lines over a few seconds, then succeed (slow).
 */
export type AgentBehaviour = 'succeed' | 'fail' | 'hang' | 'ignore' | 'slow';

export interface ReceivedCommand {
  readonly command: Command;
  readonly verdict: FenceVerdict;
}

/** Long enough that a test never sees the timer: the silence of a hanging command is the point. */
const NEVER_MS = 3_600_000;

/**
 * The real agent runtime (libs/agent-runtime: bus loop, fence store, per-site queue) on the real
 * NATS server for the engine's tests, with the ScriptedHost at the host boundary. `received` is
 * what the runtime saw, with its fence verdicts; a test steers the host by `behaviour` and
 * `fingerprints`, and may publish heartbeats, reports, health snapshots and events of its own.
 */
export class TestAgent {
  readonly received: ReceivedCommand[] = [];
  private current: AgentBehaviour = 'succeed';
  /** Commands whose events must not reach the bus (from now on). */
  private readonly silenced = new Set<string>();
  /** Commands taken while the behaviour was 'hang' (their host operation hangs). */
  private readonly hanging = new Set<string>();

  private readonly host = new ScriptedHost();
  private readonly fenceDir = mkdtempSync(join(tmpdir(), 'pressluft-test-agent-'));
  private agent: Agent | undefined;

  private constructor(
    readonly node: string,
    private readonly nc: NatsConnection,
  ) {}

  static async start(natsUrl: string, node: string, options: { heartbeatMs?: number } = {}): Promise<TestAgent> {
    const nc = await connect({ servers: natsUrl, name: `test-agent-${node}` });
    // The control plane creates the streams when it becomes leader and the node's durable at
    // enrollment (nodeBus, ensureNodeConsumer); the test agent may be first and does not enroll.
    await ensureStreams(nc);
    const durable = nodeDurable(node);
    await (await jetstreamManager(nc)).consumers.add(COMMAND_STREAM, { durable_name: durable, filter_subject: commandSubject(node), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const test = new TestAgent(node, nc);
    test.agent = new Agent({
      node,
      version: 'test-agent/1',
      bus: { url: natsUrl, stream: COMMAND_STREAM, durable, eventSubjectPrefix: eventSubjectPrefix(node), inboxPrefix: '_INBOX' },
      host: test.host,
      fences: new FenceStore(test.fenceDir),
      logger: createLogger({ name: `test-agent-${node}`, level: process.env['PRESSLUFT_TEST_LOG_LEVEL'] ?? 'silent' }),
      heartbeatMs: options.heartbeatMs ?? 500,
      reportMs: NEVER_MS,
      commandHeartbeatMs: NEVER_MS,
      // The test says how the node's sites serve (sendHealth), not the scripted host.
      superviseAndProbe: false,
      observer: { commandReceived: (command, verdict) => test.take(command, verdict) },
      dropCommandEvents: (ref) => test.silenced.has(ref.id),
      // A made-up repository per store: the scripted host never runs restic (the real path is the agent's gRPC client).
      stores: { access: (store) => Promise.resolve({ repository: `/nonexistent/restic/${store}`, password: 'test-agent-password', sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' }) },
    });
    await test.agent.start();
    return test;
  }

  get behaviour(): AgentBehaviour {
    return this.current;
  }

  /** Leaving 'hang' ends the hanging operations without a word, so the site's queue moves on. */
  set behaviour(behaviour: AgentBehaviour) {
    if (this.current === 'hang' && behaviour !== 'hang') this.releaseHanging();
    this.current = behaviour;
    this.host.behaviour = behaviour === 'ignore' ? 'succeed' : behaviour;
  }

  /** The host operations the runtime asked the scripted host for, in order. */
  get hostCalls(): readonly ScriptedCall[] {
    return this.host.calls;
  }

  /** Sent with every success as the site's complete fingerprints (what it applied); none when undefined. */
  get fingerprints(): Record<string, string> | undefined {
    return this.host.fingerprintSet;
  }

  set fingerprints(fingerprints: Record<string, string> | undefined) {
    this.host.fingerprintSet = fingerprints;
  }

  /** Sent with every success as each site's identity (the commit its release was built from, its deploy key). */
  get identity(): HostSiteIdentity {
    return this.host.identitySet;
  }

  set identity(identity: HostSiteIdentity) {
    this.host.identitySet = identity;
  }

  /** Lets the operations hanging now succeed and report it (the behaviour becomes 'succeed'). */
  finishHanging(): void {
    this.hanging.clear();
    this.current = 'succeed';
    this.host.behaviour = 'succeed';
    this.host.settleHung('succeed');
  }

  /** Stops the agent (heartbeats, consumption: the node goes silent), keeping this connection for publishing. */
  silence(): Promise<void> {
    this.releaseHanging();
    return this.agent?.stop() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.silence();
    await this.nc.close();
    rmSync(this.fenceDir, { recursive: true, force: true });
  }

  async sendHeartbeat(): Promise<void> {
    const payload = Heartbeat.encode({ node: this.node, sentAt: new Date().toISOString(), load: 0.1, agentVersion: 'test-agent/1' }).finish();
    await jetstream(this.nc).publish(eventSubject(this.node, 'heartbeat'), payload);
  }

  /** Publishes a NodeHealth snapshot on this node's subject (its body names this node unless `health` says otherwise; `at` defaults to now). */
  async sendHealth(health: Partial<NodeHealth>): Promise<void> {
    const payload = NodeHealth.encode({ node: this.node, at: new Date().toISOString(), sites: [], services: [], ...health }).finish();
    await jetstream(this.nc).publish(eventSubject(this.node, 'health'), payload);
  }

  /** Publishes a NodeReport on this node's subject (its body names `node`, normally this one). */
  async sendReport(sites: NodeReport['sites'], options: { node?: string; cpus?: number; publicAddresses?: string[] } = {}): Promise<void> {
    const report = NodeReport.encode({
      node: options.node ?? this.node,
      at: new Date().toISOString(),
      load: 0.1,
      agentVersion: 'test-agent/1',
      cpus: options.cpus ?? 2,
      memoryBytes: 4 * 1024 ** 3,
      sites,
      versions: {},
      publicAddresses: options.publicAddresses ?? [],
    }).finish();
    await jetstream(this.nc).publish(eventSubject(this.node, 'report'), report);
  }

  /** Publishes one event about a command with an explicit sequence (tests also replay and reorder). */
  async sendEvent(command: Command, sequence: number, kind: CommandEvent['kind']): Promise<void> {
    if (!command.ref) throw new Error('the command has no ref');
    await publishCommandEvent(this.nc, { eventSubjectPrefix: eventSubjectPrefix(this.node) }, command.ref, sequence, kind);
  }

  /** The runtime's observer: called once it fenced a command, before it acts on the verdict. */
  private take(command: Command, verdict: FenceVerdict): void {
    const id = command.ref?.id ?? '';
    if (verdict === 'apply' && this.current === 'ignore') this.silenced.add(id);
    if (verdict === 'apply' && this.current === 'hang') this.hanging.add(id);
    this.received.push({ command, verdict });
  }

  private releaseHanging(): void {
    for (const id of this.hanging) this.silenced.add(id);
    this.hanging.clear();
    this.host.settleHung('fail');
  }
}
