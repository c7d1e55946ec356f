import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KindName } from '@pressluft/domain';
import { WorkQueue, type Logger } from '@pressluft/platform';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CONFIG, LOGGER } from '../infra/tokens.js';
import { CommandQueries } from '../resources/command.queries.js';
import { ChangesExpired, ResourceStore } from '../resources/resource.store.js';
import { WatchHub } from '../resources/watch.hub.js';
import { controllerName, RECONCILERS, RUNNABLES, type Change, type Reconciler, type Runnable, type Watch } from './controller-registry.js';
import { InformerCache } from './informer.cache.js';
import { LeaderElection } from './leader-election.js';
import { Metrics } from './metrics.js';

/** Node.js timers wait at most this long (a longer delay fires at once); a later requeue is asked for again then. */
const MAX_REQUEUE_MS = 2 ** 31 - 1;

/**
 * The controller manager. While this replica holds the lease it runs the informer (the change
 * log, mapped to keys by the registered reconcilers' watches), one keyed work queue that
 * dispatches each key to its kind's reconciler (and honours the requeue-after it asks for, plus
 * a periodic resync), and the registered runnables (outbox relay, event ingest, stall
 * detector). Losing the lease stops them all at once.
 */
@Injectable()
export class Engine implements OnApplicationBootstrap, OnApplicationShutdown {
  private queue: WorkQueue | undefined;
  private unsubscribe: (() => void) | undefined;
  private position = '0';
  private following = false;
  private followAgain = false;
  private transition: Promise<void> = Promise.resolve();
  private readonly byName: ReadonlyMap<string, Reconciler>;
  /** The registered controllers this installation runs. */
  private readonly reconcilers: readonly Reconciler[];
  /** Per watched kind: the watches on it and the name of the controller each wakes. */
  private readonly watchers = new Map<KindName, Array<{ controller: string; watch: Watch }>>();

  constructor(
    private readonly leader: LeaderElection,
    private readonly store: ResourceStore,
    private readonly commands: CommandQueries,
    private readonly hub: WatchHub,
    private readonly cache: InformerCache,
    private readonly metrics: Metrics,
    @Inject(RECONCILERS) registered: readonly Reconciler[],
    @Inject(RUNNABLES) private readonly runnables: readonly Runnable[],
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.reconcilers = registered.filter((reconciler) => reconciler.enabled ?? true);
    this.byName = new Map(this.reconcilers.map((reconciler) => [controllerName(reconciler), reconciler]));
    if (this.byName.size !== this.reconcilers.length) throw new Error('engine: two reconcilers share a controller name');
    for (const reconciler of this.reconcilers) {
      for (const watch of [...reconciler.watches]) {
        const list = this.watchers.get(watch.kind) ?? [];
        list.push({ controller: controllerName(reconciler), watch });
        this.watchers.set(watch.kind, list);
      }
    }
  }

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
    await this.relist();
    const queue: WorkQueue = new WorkQueue((key) => this.reconcile(queue, key), {
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
    for (const runnable of this.runnables) runnable.start();
    this.logger.info({ epoch: this.leader.currentEpoch }, 'engine: loops started');
  }

  /** List, then follow the change log from before the lists: replayed older versions change nothing. */
  private async relist(): Promise<void> {
    const position = await this.store.latestResourceVersion();
    const [sites, nodes, commands] = await Promise.all([this.store.list('Site'), this.store.list('Node'), this.commands.latestPerSite()]);
    this.position = position;
    this.cache.fill(sites.items, nodes.items, commands);
  }

  private async relistAll(): Promise<void> {
    await this.relist();
    const keys = await this.allKeys();
    for (const key of keys) this.queue?.add(key);
  }

  private async stop(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    this.queue = undefined;
    this.unsubscribe?.();
    this.cache.clear();
    await Promise.all([...this.runnables.map((runnable) => runnable.stop()), queue.stop()]);
    this.logger.info('engine: loops stopped');
  }

  private async allKeys(): Promise<string[]> {
    const names = await Promise.all(this.reconcilers.map(async (reconciler) => (await this.store.names(reconciler.kind)).map((name) => `${controllerName(reconciler)}/${name}`)));
    return names.flat();
  }

  private async reconcile(queue: WorkQueue, key: string): Promise<void> {
    if (!this.leader.leading) return;
    const [controller = '', name] = key.split('/');
    const reconciler = this.byName.get(controller);
    if (!reconciler || !name) return;
    const { requeueAfterMs } = await reconciler.reconcile(name);
    if (requeueAfterMs !== undefined) queue.addAfter(key, Math.min(requeueAfterMs, MAX_REQUEUE_MS));
  }

  /** The informer: turns committed changes into keys through the reconcilers' watches. */
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
          const { changes, through } = await this.store.changesAfter([...this.watchers.keys()], this.position, 1000);
          for (const { type, object } of changes) {
            // The change log's objects of a kind have that kind's schema.
            const change = { type, object } as Change;
            const woken = (this.watchers.get(object.kind) ?? []).filter(({ watch }) => watch.predicate?.(change) ?? true);
            this.cache.apply(type, object);
            for (const { controller, watch } of woken) for (const name of watch.map(change)) queue.add(`${controller}/${name}`);
          }
          this.position = through;
          if (changes.length === 0) break;
        }
      } while (this.followAgain);
    } catch (error) {
      this.logger.warn({ err: error }, 'engine: reading the change log failed; the resync catches up');
      // Fell behind the compaction (a long pause): relist, and look at every key again.
      if (error instanceof ChangesExpired) await this.relistAll().catch((failed: unknown) => this.logger.warn({ err: failed }, 'engine: relisting failed; the next change tries again'));
    } finally {
      this.following = false;
    }
  }
}
