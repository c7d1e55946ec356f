import { cpus, loadavg, totalmem } from 'node:os';
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@pressluft/platform';
import { Command, CommandEvent, Heartbeat, NodeReport, type CommandRef, type SiteConfig, type SiteState } from '@pressluft/proto';
import { ROLLBACK_ITEMS, ROTATION_ITEMS, pickItems } from '../host/fingerprints.js';
import type { FenceStore } from './fence-store.js';

/** Reports a running step: progress also keeps the JetStream message alive. */
export interface StepReporter {
  progress(step: string, percent: number): Promise<void>;
  log(line: string): Promise<void>;
}

interface Releases {
  readonly currentRelease: string;
  readonly releases: string[];
}

/** What the agent does on its host (SiteHost in production and tests). */
export interface SiteOperations {
  provision(site: SiteConfig, report: StepReporter): Promise<{ url: string; currentRelease: string }>;
  deploy(site: SiteConfig, report: StepReporter): Promise<Releases>;
  rollbackTo(name: string, id: string, release: string | undefined, report: StepReporter): Promise<Releases>;
  releases(name: string): Promise<{ current: string | undefined; releases: string[] }>;
  rotateDatabasePassword(name: string, id: string, report: StepReporter): Promise<{ rotatedAt: string }>;
  /** item -> sha256 hex of everything the node manages for the site (reads only). */
  fingerprints(name: string, id: string): Promise<Record<string, string>>;
  remove(name: string, id: string, report: StepReporter): Promise<void>;
  observe(): Promise<ReadonlyArray<{ name: string; id: string; currentRelease: string }>>;
}

/** A new release is built only when what it is built from changed (otherwise a deploy converges the configuration). */
export function releaseSourceChanged(before: SiteConfig | undefined, after: SiteConfig): boolean {
  if (!before) return false;
  return before.wordpress?.version !== after.wordpress?.version || before.git?.url !== after.git?.url || before.git?.ref !== after.git?.ref;
}

/** Where the node's commands and events are on the bus (the enrollment answer). */
export interface BusSettings {
  readonly url: string;
  readonly stream: string;
  readonly durable: string;
  /** pressluft.evt.<node>: events go to <prefix>.command|heartbeat|report. */
  readonly eventSubjectPrefix: string;
  readonly inboxPrefix: string;
  /** Mutual TLS (PEM): the node's own key and certificate, and the CA that signed the server's. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

export interface AgentOptions {
  readonly node: string;
  readonly version: string;
  readonly bus: BusSettings;
  readonly host: SiteOperations;
  readonly fences: FenceStore;
  readonly logger: Logger;
  readonly heartbeatMs?: number;
  readonly reportMs?: number;
  /** How often a running command says it is alive (event + JetStream working()). */
  readonly commandHeartbeatMs?: number;
  /** Commands run at once (one at a time per site, always). */
  readonly concurrency?: number;
}

/** A step failed in a way the agent can name: becomes Failed{reason, message}. */
interface NamedFailure {
  readonly reason: string;
  readonly message: string;
}

const ATTEMPT_STRIDE = 1_000_000;

/** For converges nobody watches step by step (resume after a restart). */
const QUIET: StepReporter = { progress: () => Promise.resolve(), log: () => Promise.resolve() };

/**
 * The node agent's loop: a durable pull consumer on the node's own command subject (explicit
 * acks), fenced per site with a durable store, commands run concurrently across sites and in
 * order per site, every step streamed as CommandEvents; heartbeats and NodeReports on timers.
 * A message is acknowledged only after its result is on the bus, so a crash mid-command means
 * a redelivery, which the fence store recognises and runs again (steps are idempotent).
 */
export class Agent {
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private readonly perSite = new Map<string, Promise<void>>();
  /** Commands scheduled per site so far: fingerprints taken while this moved describe no settled state. */
  private readonly scheduled = new Map<string, number>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: AgentOptions) {}

  async start(): Promise<void> {
    const { bus, logger } = this.options;
    const connectOptions: ConnectionOptions = {
      servers: bus.url,
      name: `pressluft-agent-${this.options.node}`,
      inboxPrefix: bus.inboxPrefix,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      ...(bus.tls ? { tls: { cert: bus.tls.cert, key: bus.tls.key, ca: bus.tls.ca } } : {}),
    };
    // Right after enrollment the bus may not know this node yet (its authorization is reloaded
    // asynchronously): an authorization refusal is retried, like a server that is not up yet.
    for (let attempt = 1; ; attempt++) {
      try {
        this.nc = await connect(connectOptions);
        break;
      } catch (error) {
        if (attempt >= 30) throw error;
        logger.warn({ err: error, attempt }, 'agent: cannot connect to the bus yet; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    logger.info({ server: this.nc.getServer(), node: this.options.node }, 'agent connected to the bus');
    this.running = true;
    await this.resume();
    this.loop = this.consume();
    const every = (ms: number, task: () => Promise<void>) =>
      this.timers.push(setInterval(() => void task().catch((error: unknown) => logger.warn({ err: error }, 'agent: periodic publish failed')), ms));
    every(this.options.heartbeatMs ?? 5000, () => this.heartbeat());
    every(this.options.reportMs ?? 30_000, () => this.report());
    await this.heartbeat();
    await this.report().catch((error: unknown) => logger.warn({ err: error }, 'agent: first report failed'));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.messages?.close();
    await this.loop;
    await Promise.allSettled([...this.perSite.values()]);
    await this.nc?.drain().catch(() => undefined);
  }

  /**
   * After a restart (of the agent or the machine) the node converges what it last applied, so
   * the sites' PHP-FPM masters run again without waiting for a command. Failures are logged;
   * the next command for the site converges it anyway.
   */
  private async resume(): Promise<void> {
    for (const [site, config] of this.options.fences.appliedConfigs()) {
      try {
        await this.options.host.provision(config, QUIET);
      } catch (error) {
        this.options.logger.warn({ site, reason: asFailure(error).reason, msg: asFailure(error).message }, 'agent: resuming a site failed');
      }
    }
  }

  private async consume(): Promise<void> {
    const { bus, logger } = this.options;
    while (this.running) {
      try {
        const consumer = await jetstream(this.connection()).consumers.get(bus.stream, bus.durable);
        const concurrency = this.options.concurrency ?? 4;
        this.messages = await consumer.consume({ max_messages: concurrency * 2, expires: 5000 });
        for await (const message of this.messages) {
          if (!this.running) break;
          this.schedule(message);
        }
      } catch (error) {
        if (!this.running) break;
        logger.warn({ err: error }, 'agent: command consumer failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** One command at a time per site, at most `concurrency` overall. */
  private schedule(message: JsMsg): void {
    let command: Command;
    try {
      command = Command.decode(message.data);
    } catch (error) {
      this.options.logger.warn({ err: error, subject: message.subject }, 'agent: undecodable command dropped');
      message.term();
      return;
    }
    const site = command.ref?.site ?? '';
    this.scheduled.set(site, (this.scheduled.get(site) ?? 0) + 1);
    const previous = this.perSite.get(site) ?? Promise.resolve();
    const next = previous
      .then(() => this.slot(() => this.handle(message, command)))
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, site }, 'agent: command handling failed; it will be redelivered');
        message.nak(2000);
      })
      .finally(() => {
        if (this.perSite.get(site) === next) this.perSite.delete(site);
      });
    this.perSite.set(site, next);
  }

  private async slot(task: () => Promise<void>): Promise<void> {
    const limit = this.options.concurrency ?? 4;
    if (this.active >= limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }

  private async handle(message: JsMsg, command: Command): Promise<void> {
    const { fences, logger, node } = this.options;
    const ref = command.ref;
    const payload = command.payload;
    if (!ref || ref.node !== node || !payload) {
      logger.warn({ command: ref?.id, node: ref?.node }, 'agent: command not addressed to this node or empty; dropped');
      message.term();
      return;
    }
    const siteId = payload.$case === 'provisionSite' || payload.$case === 'deploySite' ? (payload.value.site?.id ?? '') : payload.value.siteId;
    const fence = Number(ref.fence);
    const verdict = fences.verdict(ref.site, siteId, fence);
    const held = fences.get(ref.site);
    if (verdict === 'stale') {
      const message_ = held ? `fence ${fence} is older than ${held.fence}, applied on this node` : `fence ${fence} is not valid`;
      logger.warn({ command: ref.id, site: ref.site, fence, held: held?.fence }, 'agent: stale command rejected');
      // Sequence 1: the command never ran here. The message id names this delivery, so a replay
      // of a command the node ran long ago is not hidden by JetStream's duplicate window.
      await this.publishEvent(ref, 1, { $case: 'rejected', value: { reason: 'StaleFence', message: message_ } }, `${ref.id}#rejected#${message.info.streamSequence}`);
      message.ack();
      return;
    }
    if (verdict === 'duplicate' && held?.command === ref.id && held.done) {
      // The result is on the bus already: a redelivery changes nothing.
      message.ack();
      return;
    }
    const attempt = verdict === 'duplicate' && held ? held.attempt + 1 : 1;
    fences.put(ref.site, { fence, command: ref.id, attempt, done: false, siteId, deleted: false });
    let sequence = (attempt - 1) * ATTEMPT_STRIDE;
    const send = (kind: CommandEvent['kind']) => this.publishEvent(ref, ++sequence, kind);
    await send({ $case: 'accepted', value: {} });
    const alive = setInterval(() => {
      message.working();
      void send({ $case: 'heartbeat', value: {} }).catch(() => undefined);
    }, this.options.commandHeartbeatMs ?? 5000);
    const reporter: StepReporter = {
      progress: async (step, percent) => {
        message.working();
        await send({ $case: 'progress', value: { step, percent } });
      },
      log: async (line) => {
        await send({ $case: 'log', value: { line } });
      },
    };
    let deleted = false;
    try {
      const started = Date.now();
      switch (payload.$case) {
        case 'provisionSite':
        case 'deploySite': {
          const config = payload.value.site;
          if (!config) throw failure('InvalidCommand', 'the command carries no site configuration');
          const before = fences.appliedConfigs().get(ref.site);
          const result = await this.options.host.provision(config, reporter);
          // A deploy of new code or another WordPress version builds a release, health-checks it
          // and only then switches; any other spec change is converged by provision() alone.
          // A first provision of a site with code deploys it the same way (provision() builds core only).
          const needsRelease = releaseSourceChanged(before, config) || (payload.$case === 'provisionSite' && before === undefined && Boolean(config.git?.url));
          const deployed = needsRelease ? await this.options.host.deploy(config, reporter) : undefined;
          fences.saveAppliedConfig(ref.site, config);
          const releases = deployed ?? (await this.releasesOf(ref.site));
          // What this converge left is what the control plane expects from now on.
          const site = await this.siteState(ref.site, siteId, releases, undefined);
          await send({ $case: 'succeeded', value: { message: `site serves ${result.url} from release ${releases?.currentRelease ?? result.currentRelease} (${Date.now() - started} ms)`, site } });
          break;
        }
        case 'checkDrift': {
          // The node only looks; the control plane compares with what it expects.
          const site = await this.siteState(ref.site, siteId, await this.releasesOf(ref.site), undefined);
          await send({ $case: 'succeeded', value: { message: `${Object.keys(site.fingerprints).length} items fingerprinted`, site } });
          break;
        }
        case 'rotateCredentials': {
          const { rotatedAt } = await this.options.host.rotateDatabasePassword(ref.site, siteId, reporter);
          const site = await this.siteState(ref.site, siteId, await this.releasesOf(ref.site), ROTATION_ITEMS);
          await send({ $case: 'succeeded', value: { message: `database password of the site rotated at ${rotatedAt} (${Date.now() - started} ms)`, site } });
          break;
        }
        case 'rollbackSite': {
          const releases = await this.options.host.rollbackTo(ref.site, siteId, payload.value.release || undefined, reporter);
          const site = await this.siteState(ref.site, siteId, releases, ROLLBACK_ITEMS);
          await send({ $case: 'succeeded', value: { message: `site serves release ${releases.currentRelease} again (${Date.now() - started} ms)`, site } });
          break;
        }
        case 'deleteSite':
          await this.options.host.remove(ref.site, siteId, reporter);
          fences.dropAppliedConfig(ref.site);
          deleted = true;
          await send({ $case: 'succeeded', value: { message: `site removed from ${node} (${Date.now() - started} ms)` } });
          break;
      }
    } catch (error) {
      const named = asFailure(error);
      logger.warn({ command: ref.id, site: ref.site, reason: named.reason, msg: named.message }, 'agent: command failed');
      await send({ $case: 'failed', value: named });
    } finally {
      clearInterval(alive);
    }
    fences.put(ref.site, { fence, command: ref.id, attempt, done: true, siteId, deleted });
    message.ack();
    void this.report().catch(() => undefined);
  }

  /**
   * The site after a command: its releases and fingerprints. `items`: only those (a partial
   * converge); undefined: all of them. A fingerprinting failure sends a complete empty set, which
   * makes the control plane expect nothing rather than something stale.
   */
  private async siteState(site: string, id: string, releases: Releases | undefined, items: readonly string[] | undefined): Promise<SiteState> {
    const all = await this.options.host.fingerprints(site, id).catch((error: unknown) => {
      this.options.logger.warn({ site, reason: asFailure(error).reason, msg: asFailure(error).message }, 'agent: fingerprinting the site failed');
      return undefined;
    });
    const fingerprints = all === undefined ? {} : items ? pickItems(all, items) : all;
    return { currentRelease: releases?.currentRelease ?? '', releases: releases?.releases ?? [], fingerprints, fingerprintsComplete: all === undefined || items === undefined };
  }

  private async releasesOf(site: string): Promise<Releases | undefined> {
    const { current, releases } = await this.options.host.releases(site);
    return current ? { currentRelease: current, releases } : undefined;
  }

  private connection(): NatsConnection {
    if (!this.nc) throw new Error('the agent is not connected');
    return this.nc;
  }

  private async publishEvent(ref: CommandRef, sequence: number, kind: CommandEvent['kind'], msgID = `${ref.id}#${sequence}`): Promise<void> {
    const event = CommandEvent.encode({ ref, sequence, at: new Date().toISOString(), kind }).finish();
    await jetstream(this.connection()).publish(`${this.options.bus.eventSubjectPrefix}.command`, event, { msgID });
  }

  private async heartbeat(): Promise<void> {
    const payload = Heartbeat.encode({ node: this.options.node, sentAt: new Date().toISOString(), load: nodeLoad(), agentVersion: this.options.version }).finish();
    await jetstream(this.connection()).publish(`${this.options.bus.eventSubjectPrefix}.heartbeat`, payload);
  }

  /**
   * A NodeReport: capacity, and per site its fence, current release and fingerprints (what the
   * control plane compares with what it expects). A site a command is working on, or gets one
   * while it is fingerprinted, is reported without fingerprints: changes in flight are not drift.
   */
  private async report(): Promise<void> {
    const observed = await this.options.host.observe();
    const fences = this.options.fences.sites();
    const sites = [];
    for (const site of observed) {
      const before = this.scheduled.get(site.name) ?? 0;
      const fingerprints = this.perSite.has(site.name) ? undefined : await this.options.host.fingerprints(site.name, site.id).catch(() => undefined);
      const settled = fingerprints !== undefined && !this.perSite.has(site.name) && (this.scheduled.get(site.name) ?? 0) === before;
      sites.push({ name: site.name, fence: fences.get(site.name)?.fence ?? 0, currentRelease: site.currentRelease, fingerprints: settled ? fingerprints : {}, fingerprinted: settled });
    }
    const report = NodeReport.encode({
      node: this.options.node,
      at: new Date().toISOString(),
      load: nodeLoad(),
      agentVersion: this.options.version,
      cpus: cpus().length,
      memoryBytes: totalmem(),
      sites,
      versions: { node: process.versions.node },
    }).finish();
    await jetstream(this.connection()).publish(`${this.options.bus.eventSubjectPrefix}.report`, report);
  }
}

function nodeLoad(): number {
  return Math.round(((loadavg()[0] ?? 0) / Math.max(1, cpus().length)) * 100) / 100;
}

function failure(reason: string, message: string): NamedFailure & Error {
  return Object.assign(new Error(message), { reason });
}

/** A failure as the bus carries it: a CamelCase reason and a message without secrets. */
export function asFailure(error: unknown): NamedFailure {
  if (error instanceof Error) {
    const reason = (error as Error & { reason?: unknown }).reason;
    return {
      reason: typeof reason === 'string' && /^[A-Z][A-Za-z0-9]{0,127}$/.test(reason) ? reason : 'StepFailed',
      message: error.message.slice(0, 4096),
    };
  }
  return { reason: 'StepFailed', message: String(error).slice(0, 4096) };
}
