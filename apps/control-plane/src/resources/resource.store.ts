import { watchExpired, type KindName, type Resource, type ResourceOf } from '@pressluft/domain';
import type { DataSource } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';
import { listAt, type ListOptions } from './resource-list.js';
import { ObjectCache } from './object-cache.js';
import { COLUMNS, fromRawOfKind, type ChangeType, type RawRow } from './resource-rows.js';
import { NeedsTransaction, ResourceTransaction, type RequestAudit } from './resource-transaction.js';
import { LATEST_VERSION_SQL, WATERMARK_SQL } from './version-locks.js';

export { ObjectCache } from './object-cache.js';
export type { ListOptions } from './resource-list.js';
export { toResource, writeOf, type ChangeType, type ObjectWrite } from './resource-rows.js';
export { NeedsTransaction, ResourceTransaction, type RequestAudit } from './resource-transaction.js';

/** NOTIFY channel saying that changes committed (watches wake on it); its payload names their kinds (see kindsNotified). */
export const CHANGE_CHANNEL = 'pressluft_changes';

/** A notification's payload: the kinds written since the last one, comma-separated. */
function changePayload(kinds: ReadonlySet<KindName>): string {
  return [...kinds].sort().join(',');
}

/** The kinds a notification names; undefined when it does not say (every kind may have changed). */
export function kindsNotified(payload: string | undefined): ReadonlySet<string> | undefined {
  return payload ? new Set(payload.split(',')) : undefined;
}

/** A page of the change log: the changes, and the version everything of their kinds was read up to. */
export interface ChangesPage {
  readonly changes: ReadonlyArray<{ type: ChangeType; object: Resource }>;
  readonly through: string;
}

/** The changes after a resourceVersion were compacted away (kube-apiserver: 410 Expired, "too old resource version"). */
export class ChangesExpired extends Error {
  constructor(resourceVersion: string, compactedThrough: string) {
    super(`too old resource version: ${resourceVersion} (${compactedThrough})`);
    this.name = 'ChangesExpired';
  }
}

/** Commits within this window share one NOTIFY (watch latency vs. one round trip per write). */
const NOTIFY_COALESCE_MS = 5;

/** The state store: PostgreSQL through TypeORM. All writes happen inside `transaction`. */
export class ResourceStore {
  /** The kinds written since the last NOTIFY; one is due while this is not empty. */
  private readonly notifyKinds = new Set<KindName>();
  private readonly cache = new ObjectCache();

  constructor(private readonly dataSource: DataSource) {}

  /** After a commit: what the transaction read and wrote is the newest state this process knows. */
  private remember(tx: ResourceTransaction): void {
    for (const { kind, name, object } of tx.seen.values()) {
      if (object) this.cache.remember(object);
      else this.cache.forget(kind, name);
    }
  }

  /** After a rollback or a failed compare-and-swap: what it touched may be stale. */
  private forget(tx: ResourceTransaction): void {
    for (const { kind, name } of tx.seen.values()) this.cache.forget(kind, name);
  }

  /** Runs `work` in one transaction; a deadlock or serialization failure is retried (twice). */
  async transaction<T>(work: (tx: ResourceTransaction) => Promise<T>, options: { audit?: RequestAudit | undefined } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let tx: ResourceTransaction | undefined;
      try {
        const result = await this.dataSource.transaction(async (manager) => {
          tx = new ResourceTransaction(manager, { audit: options.audit });
          return work(tx);
        });
        if (tx) this.remember(tx);
        if (tx) this.wakeWatchers(tx.changedKinds);
        return result;
      } catch (error) {
        if (tx) this.forget(tx);
        // A rolled-back version is a gap that may have held the watermark back: let watchers move on.
        if (tx) this.wakeWatchers(tx.changedKinds);
        const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
      }
    }
  }

  /**
   * Runs `work` without a transaction: plain reads and one compare-and-swap write, one or two
   * round trips instead of four (BEGIN, SELECT FOR UPDATE, write, COMMIT) for the common PUT and
   * PATCH. Reads come from the object cache when it has the object; the compare-and-swap then
   * proves the cached object was current. An outcome decided on a cached object WITHOUT a write
   * to prove it (no change, a refusal) is decided again on a fresh read. Undefined when the
   * object changed meanwhile or the work needs more (a create and its Event): nothing was written
   * then, and the caller runs the same work in a transaction.
   */
  async optimistically<T>(work: (tx: ResourceTransaction) => Promise<T>, options: { audit?: RequestAudit | undefined } = {}): Promise<{ value: T } | undefined> {
    const cached = await this.attempt(work, this.cache, options.audit);
    return cached === 'unproven' ? this.attempt(work, undefined, options.audit).then((fresh) => (fresh === 'unproven' ? undefined : fresh)) : cached;
  }

  private async attempt<T>(
    work: (tx: ResourceTransaction) => Promise<T>,
    cache: ObjectCache | undefined,
    audit: RequestAudit | undefined,
  ): Promise<{ value: T } | undefined | 'unproven'> {
    const tx = new ResourceTransaction(this.dataSource.manager, { optimistic: true, cache, audit });
    try {
      const value = await work(tx);
      if (tx.readFromCache && !tx.written) return 'unproven';
      this.remember(tx);
      return { value };
    } catch (error) {
      if (error instanceof NeedsTransaction) {
        this.forget(tx);
        return undefined;
      }
      if (tx.readFromCache && !tx.written) return 'unproven';
      throw error;
    } finally {
      this.wakeWatchers(tx.changedKinds);
    }
  }

  /** Every version at or below this has committed or rolled back for good (see FLOOR_LOCK_BASE). */
  async watermark(): Promise<string> {
    const [row] = await queryPrepared<Array<{ w: string | null }>>(this.dataSource, WATERMARK_SQL);
    return row?.w ?? '0';
  }

  async get<K extends KindName>(kind: K, name: string): Promise<ResourceOf<K> | undefined> {
    return new ResourceTransaction(this.dataSource.manager).get(kind, name);
  }

  /** The objects of `kind` with these names that exist, in one round trip (no lock, no cache). */
  async getMany<K extends KindName>(kind: K, names: readonly string[]): Promise<Array<ResourceOf<K>>> {
    const rows = await queryPrepared<RawRow[]>(this.dataSource, `SELECT ${COLUMNS} FROM resources WHERE kind = $1 AND name = ANY($2::text[])`, [kind, names]);
    return rows.map((row) => fromRawOfKind<K>(row));
  }

  /**
   * NOTIFY after commit, at most one per NOTIFY_COALESCE_MS: a NOTIFY inside the write transaction
   * serialises commits on PostgreSQL's notification queue (it halved write throughput), and the
   * watchers read the change log themselves anyway. At 2 ms nearly every write under load still
   * paid a round trip of its own. A notification lost to a crash only delays them until their
   * next poll.
   */
  private wakeWatchers(kinds: ReadonlySet<KindName>): void {
    if (kinds.size === 0) return;
    const pending = this.notifyKinds.size > 0;
    for (const kind of kinds) this.notifyKinds.add(kind);
    if (pending) return;
    setTimeout(() => {
      const payload = changePayload(this.notifyKinds);
      this.notifyKinds.clear();
      queryPrepared(this.dataSource, 'SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, payload]).catch(() => undefined);
    }, NOTIFY_COALESCE_MS);
  }

  /**
   * Objects of a kind ordered by name, and the resourceVersion the list is consistent with, so a
   * watch from it misses nothing and repeats nothing. The snapshot is taken after the watermark W
   * was read, so it holds every version up to W; changes above W it may also hold (committed out
   * of order) are undone from the change log: those objects are listed as they were at W.
   */
  async list<K extends KindName>(kind: K, options: ListOptions = {}): Promise<{ items: Array<ResourceOf<K>>; resourceVersion: string }> {
    return listAt(this.dataSource, kind, await this.watermark(), options);
  }

  /**
   * Changes of the given kinds after a resourceVersion, oldest first (watches and the engine's
   * informer), and the version the reader has seen everything of these kinds up to: the last
   * change's, or the watermark when fewer than `limit` came (a watch of a quiet kind moves on
   * with the others, so the compaction does not leave it behind). Throws ChangesExpired when the
   * compaction removed changes after `resourceVersion`: the reader relists.
   */
  async changesAfter(kinds: readonly KindName[], resourceVersion: string, limit = 500): Promise<ChangesPage> {
    // Only up to the watermark, read before this query's snapshot: a version committing later
    // with a lower number than one already read would otherwise be skipped.
    const watermark = await this.watermark();
    if (BigInt(watermark) <= BigInt(resourceVersion)) return { changes: [], through: resourceVersion };
    // One statement, one snapshot: the compaction point and the changes agree.
    const rows = await queryPrepared<Array<{ compacted: string; type: ChangeType | null; object: Resource | null }>>(
      this.dataSource,
      `SELECT k.compacted_through::text AS compacted, c.type, c.object FROM change_log_compaction k
         LEFT JOIN LATERAL (SELECT resource_version, type, object FROM resource_changes
                             WHERE resource_version > $1 AND resource_version <= $4 AND kind = ANY($2) ORDER BY resource_version LIMIT $3) c ON true
        ORDER BY c.resource_version`,
      [resourceVersion, kinds, limit, watermark],
    );
    const compacted = rows[0]?.compacted ?? '0';
    if (watchExpired(resourceVersion, compacted)) throw new ChangesExpired(resourceVersion, compacted);
    const changes = rows.flatMap(({ type, object }) => (type && object ? [{ type, object }] : []));
    const through = changes.length < limit ? watermark : (changes[changes.length - 1]?.object.metadata.resourceVersion ?? resourceVersion);
    return { changes, through };
  }

  /** Node name -> the number of sites bound to it (status.nodeName), deleting ones included: they still hold the node. */
  async sitesPerNode(): Promise<Map<string, number>> {
    const rows = await queryPrepared<Array<{ node: string; sites: number }>>(
      this.dataSource,
      `SELECT status->>'nodeName' AS node, count(*)::int AS sites FROM resources WHERE kind = 'Site' AND status->>'nodeName' IS NOT NULL GROUP BY 1`,
    );
    return new Map(rows.map((row) => [row.node, row.sites]));
  }

  async names(kind: KindName): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ name: string }>>(`SELECT name FROM resources WHERE kind = $1`, [kind]);
    return rows.map((r) => r.name);
  }

  /** The newest committed resourceVersion of any kind below which nothing is still in flight. */
  async latestResourceVersion(): Promise<string> {
    const watermark = await this.watermark();
    const [row] = await this.dataSource.query<Array<{ rv: string }>>(LATEST_VERSION_SQL, [watermark]);
    return row?.rv ?? '0';
  }
}
