import type { Provider, Type } from '@nestjs/common';
import type { KindName, ResourceOf } from '@pressluft/domain';

/**
 * The engine's registry, in the shape of controller-runtime: a reconciler declares its kind and
 * what it watches, the engine (the controller manager) runs the informer and the work queue for
 * all of them; leader-only background work is a Runnable the engine starts and stops with the
 * lease. Adding a reconciler is its file plus one entry in engine.module.ts' RECONCILER_TYPES.
 */

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change from the change log, of an object of kind K. */
export interface Change<K extends KindName = KindName> {
  readonly type: ChangeType;
  readonly object: ResourceOf<K>;
}

export interface Watch<K extends KindName = KindName> {
  readonly kind: K;
  /** Whether the change matters; asked before the informer cache takes it in (so it can compare with what the cache held). */
  predicate?(change: Change<K>): boolean;
  /** The names (of the reconciler's own kind) to reconcile; asked after the cache took the change in. */
  map(change: Change<K>): readonly string[];
}

export interface ReconcileResult {
  /** Look at the key again after this long although nothing changes (a schedule, a heartbeat going stale). */
  readonly requeueAfterMs?: number;
}

export interface Reconciler {
  readonly kind: KindName;
  /**
   * The controller's name, unique among the registered reconcilers (default: its kind): its
   * work queue keys are `<name>/<object>`, so several controllers may reconcile one kind, each
   * for its own concern (as controller-runtime's controllers do).
   */
  readonly name?: string;
  readonly watches: readonly Watch[];
  /** Whether the controller runs in this installation (default: it does); a disabled one gets no keys. */
  readonly enabled?: boolean;
  /** Throws to be retried with backoff (a TerminalError is not retried). */
  reconcile(name: string): Promise<ReconcileResult>;
}

/** Leader-only background work: started when this replica starts leading, stopped when it stops. */
export interface Runnable {
  start(): void;
  /** Resolves when the work has stopped. */
  stop(): Promise<void>;
}

/** A watch of kind K (typed objects in map and predicate). */
export const watch = <K extends KindName>(kind: K, map: Watch<K>['map'], predicate?: Watch<K>['predicate']): Watch<K> => ({ kind, map, ...(predicate ? { predicate } : {}) });

/** The controller's name: its work queue keys' prefix. */
export const controllerName = (reconciler: Reconciler): string => reconciler.name ?? reconciler.kind;

/** A change of the object itself wakes its own key. */
export const own = (kind: KindName): Watch => watch(kind, ({ object }) => [object.metadata.name]);

export const RECONCILERS = Symbol('RECONCILERS');
export const RUNNABLES = Symbol('RUNNABLES');

/** The classes, and one provider that injects them all as a list under `token`. */
export function listOf<T>(token: symbol, types: ReadonlyArray<Type<T>>): Provider[] {
  return [...types, { provide: token, useFactory: (...instances: T[]) => instances, inject: [...types] }];
}
