import type { KindName, Resource } from '@pressluft/domain';

/**
 * The newest state of objects this process has read or written, for the optimistic write path
 * only (never served to readers): a write starts from the cached object and its compare-and-swap
 * on resourceVersion proves it was current, as Kubernetes' GuaranteedUpdate does with its watch
 * cache. A stale entry (another replica wrote) only costs the fallback. Bounded; the oldest
 * entries go first. Objects go in as frozen copies: nobody holding one can change the cache.
 */
export class ObjectCache {
  /** The kinds users write through the API; Events and Commands are only written by the control plane. */
  private static readonly KINDS: ReadonlySet<KindName> = new Set<KindName>(['Node', 'Site', 'Backup', 'Restore']);
  private readonly objects = new Map<string, Resource>();

  constructor(private readonly capacity = 10_000) {}

  private static key(kind: KindName, name: string): string {
    return `${kind}/${name}`;
  }

  get(kind: KindName, name: string): Resource | undefined {
    return this.objects.get(ObjectCache.key(kind, name));
  }

  /** Keeps `object` unless a newer version of it is cached already (concurrent readers may arrive late). */
  remember(object: Resource): void {
    if (!ObjectCache.KINDS.has(object.kind)) return;
    const key = ObjectCache.key(object.kind, object.metadata.name);
    const cached = this.objects.get(key);
    if (cached && BigInt(cached.metadata.resourceVersion) >= BigInt(object.metadata.resourceVersion)) return;
    this.objects.delete(key);
    this.objects.set(key, deepFreeze(structuredClone(object)));
    if (this.objects.size > this.capacity) {
      const oldest = this.objects.keys().next().value;
      if (oldest !== undefined) this.objects.delete(oldest);
    }
  }

  forget(kind: KindName, name: string): void {
    this.objects.delete(ObjectCache.key(kind, name));
  }

  get size(): number {
    return this.objects.size;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
