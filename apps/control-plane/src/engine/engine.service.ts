import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { CommandSpec, CommandStatus, KindName, Resource } from '@pressluft/domain';
import { ensureStreams, type Logger, WorkQueue } from '@pressluft/platform';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { NatsClient } from '../infra/nats.client.js';
import { CONFIG, LOGGER } from '../infra/tokens.js';
import { ResourceStore } from '../resources/resource.store.js';
import { WatchHub } from '../resources/watch.hub.js';
import { EventIngest } from './event.ingest.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';
import { Metrics } from './metrics.js';
import { NodeMonitor } from './node.monitor.js';
import { OutboxRelay } from './outbox.relay.js';
import { SiteReconciler } from './site.reconciler.js';
import { StallDetector } from './stall.detector.js';

const WATCHED: readonly KindName[] = ['Site', 'Node', 'Command'];

/**
 * Runs the leader-only loops while this replica holds the lease: the keyed work queue (fed by
 * the change log, agent events through it, and a periodic resync), the outbox relay, event
 * ingest, the stall detector and node health. Losing the lease stops them all at once.
 */
@Injectable()
export class Engine implements OnApplicationBootstrap, OnApplicationShutdown {
  private queue: WorkQueue | undefined;
  private unsubscribe: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private position = '0';
  private following = false;
  private followAgain = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly leader: LeaderElection,
    private readonly store: ResourceStore,
    private readonly hub: WatchHub,
    private readonly nats: NatsClient,
    private readonly relay: OutboxRelay,
    private readonly ingest: EventIngest,
    private readonly sites: SiteReconciler,
    private readonly cache: InformerCache,
    private readonly nodes: NodeMonitor,
    private readonly stalls: StallDetector,
    private readonly metrics: Metrics,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.leader.onChange((leading) => {
      this.metrics.leader.set(leading ? 1 : 0);
      this.transition = this.transition.then(() => (leading ? this.start() : this.stop())).catch((error: unknown) => {
        this.logger.error({ err: error }, 'engine: could not switch leadership state');
      });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transition;
    await this.stop();
  }

  private async start(): Promise<void> {
    if (this.queue) return;
    // List, then follow the change log from before the lists: replayed older versions change nothing.
    this.position = await this.store.latestResourceVersion();
    const [sites, nodes, commands] = await Promise.all([this.store.list('Site'), this.store.list('Node'), this.store.latestCommands()]);
    this.cache.fill(sites.items, nodes.items, commands);
    const queue = new WorkQueue((key) => this.reconcile(key), {
      concurrency: 8,
      baseDelayMs: 200,
      maxDelayMs: 30_000,
      onError: (key, error, attempt, retryInMs) => this.logger.warn({ err: error, key, attempt, retryInMs }, `reconcile ${key} failed`),
      onDone: (key, durationMs, outcome) => {
        const kind = key.split('/')[0] ?? 'unknown';
        this.metrics.reconciles.inc({ kind, outcome });
        this.metrics.reconcileSeconds.observe({ kind }, durationMs / 1000);
        this.metrics.queueDepth.set({ kind: 'all' }, queue.depth());
      },
    });
    this.queue = queue;
    queue.start();
    // The resync also catches the informer (and its cache) up, should a notification have been lost.
    // It runs once at once, too: a freshly elected leader looks at every key.
    queue.resyncEvery(this.config.engine.resyncMs, async () => {
      await this.follow();
      return this.allKeys();
    });
    this.unsubscribe = this.hub.subscribe(() => void this.follow());
    const every = (ms: number, work: () => Promise<unknown>) => {
      this.timers.push(setInterval(() => void work().catch((error: unknown) => this.logger.warn({ err: error }, 'engine: periodic task failed')), ms));
    };
    // Silence produces no change to react to: node health and stalls need a clock of their own.
    every(Math.max(500, Math.floor(this.config.engine.heartbeatTimeoutMs / 3)), async () => {
      for (const name of await this.store.names('Node')) queue.add(`Node/${name}`);
    });
    every(Math.max(500, Math.min(5000, Math.floor(this.config.engine.stallWindowMs / 4))), () => this.stalls.sweep());
    void this.bus();
    this.logger.info({ epoch: this.leader.currentEpoch }, 'engine: loops started');
  }

  /** Streams exist before the relay publishes and ingest consumes; NATS may come later than we do. */
  private async bus(): Promise<void> {
    while (this.queue) {
      const connection = this.nats.connection();
      if (connection && !connection.isClosed()) {
        try {
          await ensureStreams(connection);
          this.relay.start();
          this.ingest.start();
          return;
        } catch (error) {
          this.logger.warn({ err: error }, 'engine: JetStream streams not ready yet');
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async stop(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    this.queue = undefined;
    this.unsubscribe?.();
    this.cache.clear();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.all([this.relay.stop(), this.ingest.stop(), queue.stop()]);
    this.logger.info('engine: loops stopped');
  }

  private async allKeys(): Promise<string[]> {
    const [sites, nodes] = await Promise.all([this.store.names('Site'), this.store.names('Node')]);
    return [...sites.map((n) => `Site/${n}`), ...nodes.map((n) => `Node/${n}`)];
  }

  private async reconcile(key: string): Promise<void> {
    if (!this.leader.leading) return;
    const [kind, name] = key.split('/');
    if (!name) return;
    if (kind === 'Site') {
      const outcome = await this.sites.reconcile(name);
      if (outcome === 'issued') this.relay.poke();
    } else if (kind === 'Node') {
      await this.nodes.reconcile(name);
    }
  }

  /** The informer: turns committed changes into keys (a Command's new state wakes its site). */
  private async follow(): Promise<void> {
    if (this.following) {
      this.followAgain = true;
      return;
    }
    this.following = true;
    try {
      do {
        this.followAgain = false;
        for (;;) {
          const queue = this.queue;
          if (!queue) return;
          const changes = await this.store.changesAfter(WATCHED, this.position, 1000);
          if (changes.length === 0) break;
          for (const { type, object } of changes) {
            this.position = object.metadata.resourceVersion;
            // Only a command's news (not its progress) wakes its site; asked before the cache takes it in.
            const command = object.kind === 'Command' ? (object as Resource<CommandSpec, CommandStatus>) : undefined;
            const news = command !== undefined && this.cache.isNewsForSite(type, command);
            this.cache.apply(type, object);
            if (object.kind === 'Site') queue.add(`Site/${object.metadata.name}`);
            else if (command && news) queue.add(`Site/${command.spec.site}`);
            else if (object.kind === 'Node') {
              queue.add(`Node/${object.metadata.name}`);
              for (const site of this.cache.sitesOn(object.metadata.name)) queue.add(`Site/${site}`);
            }
          }
        }
      } while (this.followAgain);
    } catch (error) {
      this.logger.warn({ err: error }, 'engine: reading the change log failed; the resync catches up');
    } finally {
      this.following = false;
    }
  }
}
