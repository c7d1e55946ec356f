import type { KindName, Resource } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import type { CommandQueries } from '../resources/command.queries.js';
import type { ResourceStore } from '../resources/resource.store.js';
import type { WatchHub } from '../resources/watch.hub.js';
import { own, watch, type ChangeType, type Reconciler, type ReconcileResult, type Runnable, type Watch } from './controller-registry.js';
import { Engine } from './engine.service.js';
import { InformerCache } from './informer.cache.js';
import type { LeaderElection } from './leader-election.js';
import { Metrics } from './metrics.js';

const object = (kind: KindName, name: string, resourceVersion: string, spec: object = {}, status: object = {}): Resource =>
  ({ apiVersion: 'pressluft.io/v1', kind, metadata: { name, uid: `uid-${name}`, resourceVersion, generation: 1, labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-12-01T00:00:00Z' }, spec, status });

class FakeReconciler implements Reconciler {
  readonly calls: string[] = [];
  constructor(
    readonly kind: KindName,
    readonly watches: readonly Watch[],
    private readonly result: (name: string, call: number) => ReconcileResult = () => ({}),
  ) {}
  reconcile(name: string): Promise<ReconcileResult> {
    this.calls.push(name);
    return Promise.resolve(this.result(name, this.calls.filter((n) => n === name).length));
  }
}

class FakeRunnable implements Runnable {
  running = false;
  start(): void {
    this.running = true;
  }
  stop(): Promise<void> {
    this.running = false;
    return Promise.resolve();
  }
}

/** A world of objects and a change log, as the store and the watch hub show them to the engine. */
function world(objects: Resource[]) {
  const log: Array<{ type: ChangeType; object: Resource }> = [];
  let notify: () => void = () => undefined;
  let onLeading: (leading: boolean) => void = () => undefined;
  const store = {
    latestResourceVersion: () => Promise.resolve('100'),
    list: (kind: KindName) => Promise.resolve({ items: objects.filter((o) => o.kind === kind) }),
    names: (kind: KindName) => Promise.resolve(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name)),
    changesAfter: (kinds: readonly KindName[], after: string) => {
      const changes = log.filter(({ object: o }) => kinds.includes(o.kind) && BigInt(o.metadata.resourceVersion) > BigInt(after));
      return Promise.resolve({ changes, through: changes.at(-1)?.object.metadata.resourceVersion ?? after });
    },
  };
  const commands = { latestPerSite: () => Promise.resolve(objects.filter((o) => o.kind === 'Command')) };
  const leader = { leading: true, currentEpoch: '1', onChange: (listener: (leading: boolean) => void) => (onLeading = listener) };
  const hub = { subscribe: (listener: () => void) => ((notify = listener), () => undefined) };
  return {
    store,
    commands,
    leader,
    hub,
    change(type: ChangeType, changed: Resource) {
      log.push({ type, object: changed });
      notify();
    },
    lead: (leading: boolean) => onLeading(leading),
  };
}

const config = { engine: { resyncMs: 600_000 } } as ControlPlaneConfig;
const logger = { warn: () => undefined, info: () => undefined, error: () => undefined } as unknown as Logger;

async function until(what: string, check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Engine (the controller manager)', () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.onApplicationShutdown();
    engine = undefined;
  });

  function start(w: ReturnType<typeof world>, reconcilers: Reconciler[], runnables: Runnable[] = [], cache = new InformerCache()): Engine {
    const store = w.store as unknown as ResourceStore;
    engine = new Engine(w.leader as unknown as LeaderElection, store, w.commands as unknown as CommandQueries, w.hub as unknown as WatchHub, cache, new Metrics(), reconcilers, runnables, config, logger);
    engine.onApplicationBootstrap();
    w.lead(true);
    return engine;
  }

  it('resyncs every key of every registered kind when it starts leading, and runs the runnables while it leads', async () => {
    const w = world([object('Site', 'shop', '1'), object('Site', 'blog', '2'), object('Node', 'web-1', '3')]);
    const sites = new FakeReconciler('Site', [own('Site')]);
    const nodes = new FakeReconciler('Node', [own('Node')]);
    const runnable = new FakeRunnable();
    start(w, [sites, nodes], [runnable]);
    await until('every key reconciled', () => sites.calls.length === 2 && nodes.calls.length === 1);
    expect(sites.calls.sort()).toEqual(['blog', 'shop']);
    expect(nodes.calls).toEqual(['web-1']);
    expect(runnable.running).toBe(true);
    w.lead(false);
    await until('runnables stopped', () => !runnable.running);
  });

  it('maps changes to keys through the watches: the predicate sees the cache before the change, the map after', async () => {
    const site = object('Site', 'shop', '1', {}, { nodeName: 'web-1' });
    const w = world([site, object('Node', 'web-1', '2')]);
    const cache = new InformerCache();
    const sites = new FakeReconciler('Site', [
      own('Site'),
      watch('Command', ({ object: c }) => [c.spec.site], ({ type, object: c }) => cache.isNewsForSite(type, c)),
      watch('Node', ({ object: n }) => cache.sitesOn(n.metadata.name)),
    ]);
    const nodes = new FakeReconciler('Node', [own('Node')]);
    start(w, [sites, nodes], [], cache);
    await until('resync done', () => sites.calls.length === 1 && nodes.calls.length === 1);

    const command = (rv: string, state: string) => object('Command', 'shop-1', rv, { site: 'shop', node: 'web-1', fence: 1, operation: 'ProvisionSite', generation: 1 }, { state, log: [], lastSequence: 0 });
    w.change('ADDED', command('101', 'PENDING'));
    await until('a new command wakes its site', () => sites.calls.length === 2);
    w.change('MODIFIED', command('102', 'PENDING')); // progress only: no news
    await new Promise((r) => setTimeout(r, 30));
    expect(sites.calls).toHaveLength(2);
    w.change('MODIFIED', object('Node', 'web-1', '103'));
    await until('a node change wakes the node', () => nodes.calls.length === 2);
    await until('... and the sites on it', () => sites.calls.length === 3);
    w.change('MODIFIED', command('104', 'RUNNING'));
    await until('a new state wakes the site', () => sites.calls.length === 4);
    expect(sites.calls).toEqual(['shop', 'shop', 'shop', 'shop']);
  });

  it('runs two controllers of one kind side by side, each with its own keys, and refuses two of one name', async () => {
    const w = world([object('Site', 'shop', '1')]);
    const sites = new FakeReconciler('Site', [own('Site')]);
    const schedules = Object.assign(new FakeReconciler('Site', [own('Site')], () => ({ requeueAfterMs: 20 })), { name: 'SiteSchedule' });
    start(w, [sites, schedules]);
    await until('both reconciled the site at the resync', () => sites.calls.length === 1 && schedules.calls.length >= 1);
    w.change('MODIFIED', object('Site', 'shop', '101'));
    await until('a change wakes both', () => sites.calls.length === 2);
    await until('the second one requeues on its own', () => schedules.calls.length >= 4);
    expect(sites.calls).toEqual(['shop', 'shop']);
    const twice = () => new Engine(w.leader as unknown as LeaderElection, w.store as unknown as ResourceStore, w.commands as unknown as CommandQueries, w.hub as unknown as WatchHub, new InformerCache(), new Metrics(), [sites, new FakeReconciler('Site', [])], [], config, logger);
    expect(twice).toThrow(/share a controller name/);
  });

  it('honours requeueAfterMs: the key comes back after the delay without any change', async () => {
    const w = world([object('Node', 'web-1', '1')]);
    const nodes = new FakeReconciler('Node', [own('Node')], (_, call) => (call < 3 ? { requeueAfterMs: 20 } : {}));
    start(w, [nodes]);
    await until('requeued twice', () => nodes.calls.length === 3);
    await new Promise((r) => setTimeout(r, 60));
    expect(nodes.calls).toEqual(['web-1', 'web-1', 'web-1']);
  });

  it('dispatches a key only to the reconciler of its kind and ignores kinds nobody registered', async () => {
    const w = world([object('Site', 'shop', '1')]);
    const sites = new FakeReconciler('Site', [own('Site')]);
    start(w, [sites]);
    await until('resync done', () => sites.calls.length === 1);
    w.change('ADDED', object('Backup', 'nightly', '101'));
    w.change('MODIFIED', object('Site', 'shop', '102'));
    await until('the site change', () => sites.calls.length === 2);
    expect(sites.calls).toEqual(['shop', 'shop']);
  });
});
