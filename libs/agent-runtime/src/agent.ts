import { cpus, loadavg, totalmem } from 'node:os';
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { commandDisposition, resumeStep, type FenceVerdict } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import { Command, Heartbeat, NodeReport, type CommandEvent, type CommandRef, type SiteConfig } from '@pressluft/proto';
import { connectToBus, publishCommandEvent, publishNodeEvent, type BusSettings } from './bus.js';
import { COMMAND_HANDLERS, runCommand, siteIdOf } from './commands/index.js';
import { removeSite } from './commands/delete-site.js';
import { asFailure, failure } from './failure.js';
import { CronLoop } from './cron-loop.js';
import { HealthLoop } from './health-loop.js';
import type { FenceStore } from './fence-store.js';
import type { BackupStoreAccess, SiteOperations, SiteSecretAccess, StepReporter } from './site-operations.js';
import { SerialQueue } from './site-queue.js';

/** What a test may watch without changing what the agent does. */
export interface AgentObserver {
  /** A command addressed to this node was decoded and fenced; called before the agent acts on the verdict. */
  commandReceived?(command: Command, verdict: FenceVerdict): void;
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
  /** How often each site's processes are looked at (and restarted when due); default 1 s. */
  readonly superviseMs?: number;
  /** How often every site is probed through nginx; default 10 s. */
  readonly probeMs?: number;
  /** false: no supervision, no probes, no NodeHealth (a test that speaks for the node itself); default true. */
  readonly superviseAndProbe?: boolean;
  /** How often each site's due WP-Cron events run (default 60 s); 0: never (the node runs no WP-Cron). */
  readonly cronMs?: number;
  /** How often a command says it is alive: JetStream working() from its arrival on, a heartbeat event while it runs. */
  readonly commandHeartbeatMs?: number;
  /**
   * How long one command may run (default 30 min). Then it ends FAILED (CommandTimedOut), its
   * message is acknowledged and the site's next command may start; whatever the handler does
   * after that reaches no one.
   */
  readonly commandDeadlineMs?: number;
  /** Commands run at once (one at a time per site, always). */
  readonly concurrency?: number;
  readonly observer?: AgentObserver;
  /** Where BackupSite and RestoreSite get their store's credentials (the agent: gRPC over mutual TLS). */
  readonly stores?: BackupStoreAccess;
  /** Where the runtime fetches a site's write-only credentials for one command (IssueCertificate). */
  readonly siteSecrets?: SiteSecretAccess;
  /** The node's public addresses, reported in every NodeReport. */
  readonly publicAddresses?: readonly string[];
  /**
   * Fault injection for tests: the events of a command for which this answers true never reach
   * the bus (a node that takes a command, acks it and is never heard of about it).
   */
  readonly dropCommandEvents?: (ref: CommandRef) => boolean;
}

const ATTEMPT_STRIDE = 1_000_000;

/** An agent built without store access (tests that never back up): a backup fails with a clear reason. */
const NO_STORES: BackupStoreAccess = {
  access: (store) => Promise.reject(failure('BackupStoreUnavailable', `this agent has no way to fetch the credentials of backup store ${store}`)),
};
/** An agent built without site-secret access: a custom certificate or a dns-01 order fails with a clear reason. */
const NO_SITE_SECRETS: SiteSecretAccess = {
  access: (site, field) => Promise.reject(failure('SiteSecretUnavailable', `this agent has no way to fetch ${field} of site ${site}`)),
};
const DEFAULT_COMMAND_DEADLINE_MS = 30 * 60_000;

/** For converges nobody watches step by step (resume after a restart). */
const QUIET: StepReporter = { progress: () => Promise.resolve(), log: () => Promise.resolve() };

/**
 * The node agent's loop: a durable pull consumer on the node's own command subject (explicit
 * acks), fenced per site with a durable store, commands run concurrently across sites and in
 * order per site, every step streamed as CommandEvents; heartbeats and NodeReports on timers.
 * A message is acknowledged only after its result is on the bus, so a crash mid-command means
 * a redelivery, which the fence store recognises and runs again (steps are idempotent), a
 * bounded number of times (commandDisposition: then PoisonCommand). A message waiting for its
 * site's turn is kept alive (working()), so only a lost agent makes JetStream deliver it again.
 */
export class Agent {
  protected nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  protected timers: NodeJS.Timeout[] = [];
  protected running = false;
  /** One command at a time per site. */
  private readonly perSite = new SerialQueue();
  /** Commands scheduled per site so far: fingerprints taken while this moved describe no settled state. */
  private readonly scheduled = new Map<string, number>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private health: HealthLoop | undefined;
  private cron: CronLoop | undefined;

  constructor(private readonly options: AgentOptions) {}

  async start(): Promise<void> {
    const { bus, logger } = this.options;
    this.nc = await connectToBus(bus, this.options.node, logger);
    logger.info({ server: this.nc.getServer(), node: this.options.node }, 'agent connected to the bus');
    this.running = true;
    await this.resume();
    this.loop = this.consume();
    const every = (ms: number, task: () => Promise<void>) =>
      this.timers.push(setInterval(() => void task().catch((error: unknown) => logger.warn({ err: error }, 'agent: periodic publish failed')), ms));
    every(this.options.heartbeatMs ?? 5000, () => this.heartbeat());
    every(this.options.reportMs ?? 30_000, async () => {
      await this.report();
      // The whole health snapshot with every periodic report: a lost transition is repaired.
      await this.health?.publishNow();
    });
    if (this.options.superviseAndProbe !== false) {
      this.health = new HealthLoop({
        node: this.options.node,
        host: this.options.host,
        fences: this.options.fences,
        perSite: this.perSite,
        publish: (payload) => publishNodeEvent(this.connection(), bus, 'health', payload),
        logger,
        ...(this.options.superviseMs !== undefined ? { superviseMs: this.options.superviseMs } : {}),
        ...(this.options.probeMs !== undefined ? { probeMs: this.options.probeMs } : {}),
      });
      this.health.start();
    }
    if (this.options.cronMs !== 0) {
      this.cron = new CronLoop({
        host: this.options.host,
        sites: () => this.cronSites(),
        perSite: this.perSite,
        logger,
        ...(this.options.cronMs !== undefined ? { everyMs: this.options.cronMs } : {}),
      });
      this.cron.start();
    }
    await this.heartbeat();
    await this.report().catch((error: unknown) => logger.warn({ err: error }, 'agent: first report failed'));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.health?.stop();
    await this.cron?.stop();
    await this.messages?.close();
    await this.loop;
    await this.perSite.settled();
    await this.nc?.drain().catch(() => undefined);
  }

  /** The sites WP-Cron runs for: every applied configuration whose site is not being deleted. */
  private cronSites(): Map<string, SiteConfig> {
    const held = this.options.fences.sites();
    const out = new Map<string, SiteConfig>();
    for (const [site, config] of this.options.fences.appliedConfigs()) if (!held.get(site)?.deleting) out.set(site, config);
    return out;
  }

  /**
   * After a restart (of the agent or the machine) the node converges what it last applied, so
   * the sites' PHP-FPM masters run again without waiting for a command; a site whose DeleteSite
   * did not finish is removed instead (resumeStep; a run of that command, recorded as its next
   * attempt), and marked deleted once it is. Failures are logged; the next command for the site
   * acts anyway. Before any command is consumed, and through the per-site queue like every command.
   */
  private async resume(): Promise<void> {
    const { fences, host, logger } = this.options;
    const configs = fences.appliedConfigs();
    for (const [site, held] of fences.sites()) {
      const step = resumeStep(held, configs.has(site));
      const config = configs.get(site);
      try {
        if (step === 'remove') {
          const run = { ...held, attempt: held.attempt + 1 };
          fences.put(site, run);
          await this.perSite.run(site, () => removeSite(host, fences, site, held.siteId, QUIET));
          fences.put(site, { ...run, deleted: true });
        } else if (step === 'converge' && config) {
          await this.perSite.run(site, () => host.provision(config, QUIET));
        }
      } catch (error) {
        logger.warn({ site, step, reason: asFailure(error).reason, msg: asFailure(error).message }, 'agent: resuming a site failed');
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
    const alive = setInterval(() => bestEffort(() => message.working()), this.options.commandHeartbeatMs ?? 5000);
    this.perSite
      .run(site, () => this.slot(() => this.handle(message, command)))
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, site }, 'agent: command handling failed; it will be redelivered');
        bestEffort(() => message.nak(2000));
      })
      .finally(() => clearInterval(alive));
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
    const siteId = siteIdOf(payload);
    const deleting = payload.$case === 'deleteSite';
    const fence = Number(ref.fence);
    const verdict = fences.verdict(ref.site, siteId, fence);
    const held = fences.get(ref.site);
    this.options.observer?.commandReceived?.(command, verdict);
    const disposition = commandDisposition(verdict, held, ref.id, message.info.deliveryCount);
    if (disposition.action === 'reject') {
      const message_ = held ? `fence ${fence} is older than ${held.fence}, applied on this node` : `fence ${fence} is not valid`;
      logger.warn({ command: ref.id, site: ref.site, fence, held: held?.fence }, 'agent: stale command rejected');
      // Sequence 1: the command never ran here. The message id names this delivery, so a replay
      // of a command the node ran long ago is not hidden by JetStream's duplicate window.
      await this.publishEvent(ref, 1, { $case: 'rejected', value: { reason: 'StaleFence', message: message_ } }, `${ref.id}#rejected#${message.info.streamSequence}`);
      message.ack();
      return;
    }
    if (disposition.action === 'acknowledge') {
      // The result is on the bus already: a redelivery changes nothing.
      message.ack();
      return;
    }
    const { attempt } = disposition;
    let sequence = (attempt - 1) * ATTEMPT_STRIDE;
    if (disposition.action === 'fail') {
      logger.error({ command: ref.id, site: ref.site, reason: disposition.reason, msg: disposition.message }, 'agent: command given up');
      await this.publishEvent(ref, ++sequence, { $case: 'failed', value: { reason: disposition.reason, message: disposition.message, retryAfterSeconds: 0 } });
      fences.put(ref.site, { fence, command: ref.id, attempt, done: true, siteId, deleted: false, deleting });
      message.ack();
      return;
    }
    fences.put(ref.site, { fence, command: ref.id, attempt, done: false, siteId, deleted: false, deleting });
    // After the deadline the handler may still run: nothing it says is sent any more.
    let over = false;
    const send = async (kind: CommandEvent['kind']) => {
      if (!over) await this.publishEvent(ref, ++sequence, kind);
    };
    await send({ $case: 'accepted', value: {} });
    const alive = setInterval(() => void send({ $case: 'heartbeat', value: {} }).catch(() => undefined), this.options.commandHeartbeatMs ?? 5000);
    const report: StepReporter = {
      progress: async (step, percent, counts) => {
        bestEffort(() => message.working());
        await send({ $case: 'progress', value: { step, percent, bytes: counts?.bytes ?? 0, files: counts?.files ?? 0 } });
      },
      log: async (line) => {
        await send({ $case: 'log', value: { line } });
      },
    };
    const deadlineMs = this.options.commandDeadlineMs ?? DEFAULT_COMMAND_DEADLINE_MS;
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(failure('CommandTimedOut', `did not finish within ${Math.round(deadlineMs / 1000)} s; given up (its work on the host may still be ending)`)), deadlineMs);
    });
    let deleted = false;
    try {
      const context = { ref, siteId, node, host: this.options.host, fences, report, stores: this.options.stores ?? NO_STORES, siteSecrets: this.options.siteSecrets ?? NO_SITE_SECRETS, logger, started: Date.now() };
      const outcome = await Promise.race([runCommand(COMMAND_HANDLERS, payload.$case, payload.value, context), timedOut]);
      deleted = outcome.deleted === true;
      await send({ $case: 'succeeded', value: { message: outcome.message, ...(outcome.site ? { site: outcome.site } : {}), ...(outcome.backup ? { backup: outcome.backup } : {}), ...(outcome.certificate ? { certificate: outcome.certificate } : {}) } });
    } catch (error) {
      const named = asFailure(error);
      logger.warn({ command: ref.id, site: ref.site, reason: named.reason, msg: named.message }, 'agent: command failed');
      await send({ $case: 'failed', value: { reason: named.reason, message: named.message, retryAfterSeconds: named.retryAfterSeconds ?? 0 } });
    } finally {
      over = true;
      clearTimeout(deadline);
      clearInterval(alive);
    }
    fences.put(ref.site, { fence, command: ref.id, attempt, done: true, siteId, deleted, deleting });
    message.ack();
    void this.report().catch(() => undefined);
    // The site as the command left it, probed now (not at the next interval).
    void this.health?.refresh(ref.site);
  }

  private connection(): NatsConnection {
    if (!this.nc) throw new Error('the agent is not connected');
    return this.nc;
  }

  private async publishEvent(ref: CommandRef, sequence: number, kind: CommandEvent['kind'], msgID?: string): Promise<void> {
    if (this.options.dropCommandEvents?.(ref)) return;
    await publishCommandEvent(this.connection(), this.options.bus, ref, sequence, kind, msgID);
  }

  private async heartbeat(): Promise<void> {
    const payload = Heartbeat.encode({ node: this.options.node, sentAt: new Date().toISOString(), load: nodeLoad(), agentVersion: this.options.version }).finish();
    await publishNodeEvent(this.connection(), this.options.bus, 'heartbeat', payload);
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
      const fingerprints = this.perSite.busy(site.name) ? undefined : await this.options.host.fingerprints(site.name, site.id).catch(() => undefined);
      const settled = fingerprints !== undefined && !this.perSite.busy(site.name) && (this.scheduled.get(site.name) ?? 0) === before;
      sites.push({ name: site.name, fence: fences.get(site.name)?.fence ?? 0, currentRelease: site.currentRelease, fingerprints: settled ? fingerprints : {}, fingerprinted: settled, currentCommit: site.currentCommit, deployPublicKey: site.deployPublicKey });
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
      publicAddresses: [...(this.options.publicAddresses ?? [])],
    }).finish();
    await publishNodeEvent(this.connection(), this.options.bus, 'report', report);
  }
}

/** Acks and keep-alives on a connection that is gone: JetStream delivers the message again anyway. */
function bestEffort(signal: () => void): void {
  try {
    signal();
  } catch {
    // The connection is closed (the agent stops or died): nothing to tell.
  }
}

function nodeLoad(): number {
  return Math.round(((loadavg()[0] ?? 0) / Math.max(1, cpus().length)) * 100) / 100;
}
