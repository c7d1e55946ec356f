import { randomUUID } from 'node:crypto';
import { COMMAND_SITE_UID_LABEL, type KindName, type Resource, type ResourceOf } from '@pressluft/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { AUDIT_INSERT, type AuditedRequest } from '../audit/request-audit.js';
import { ResourceRow } from '../persistence/entities.js';
import { queryPrepared } from '../persistence/prepared.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Everything about an object a writer decides; the store owns uid, resourceVersion and timestamps. */
export interface ObjectWrite<K extends KindName = KindName> {
  readonly kind: K;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly finalizers: string[];
  readonly spec: unknown;
  readonly status: Record<string, unknown>;
  readonly generation: number;
  readonly deletionTimestamp?: string | undefined;
}

/**
 * The audit row of the API request a write serves. The statement that writes the request's
 * object (the transaction's first write of `kind`) inserts it too, so an accepted mutation and
 * its audit row commit together or not at all: no crash, no rollback, no failed
 * compare-and-swap leaves one without the other.
 */
export interface RequestAudit extends AuditedRequest {
  readonly kind: KindName;
  readonly subject: string;
  /** The HTTP status the request is answered with after this change. */
  readonly code: (change: ChangeType) => number;
}

/** NOTIFY channel carrying the resourceVersion of each committed change (watches wake on it). */
export const CHANGE_CHANNEL = 'pressluft_changes';

/** Commits within this window share one NOTIFY (watch latency vs. one round trip per write). */
const NOTIFY_COALESCE_MS = 5;

/**
 * Versions become visible in order without a global lock (docs/architecture.md, "State store"):
 * every write transaction, before it draws its first resourceVersion, takes a shared advisory
 * lock whose key encodes a floor (the sequence's value at that moment; every version it draws is
 * above it) and holds it to commit or rollback (PostgreSQL drops it also when the session dies).
 * Readers of the change log only consume versions up to the watermark: the lower of the
 * sequence's last value (read first) and the lowest floor still locked (read second). A version
 * at or below it was drawn before the first read by a transaction that had its floor lock then,
 * and is no longer locked, so it committed (and is visible to any later snapshot: PostgreSQL
 * releases locks after a commit becomes visible) or rolled back (a gap).
 *
 * Keys use the two-int4 form: classid = FLOOR_LOCK_BASE + the floor's high 32 bits, objid = its
 * low 32 bits. Shared locks never wait for each other, so writers do not serialise on them.
 */
const FLOOR_LOCK_BASE = 1_347_420_160; // 0x50500000; up to 2^48 versions
/**
 * Every version of one object is drawn while holding this per-object lock (to commit), so an
 * object's versions commit in version order (a later version is always the newer state).
 */
const OBJECT_LOCK_CLASS = 1_347_354_624; // 0x504F0000

/** The floor lock, then nothing else: `$floor` is the sequence's value, every later draw is above it. */
const FLOOR_LOCK_SQL = `SELECT pg_advisory_xact_lock_shared((${FLOOR_LOCK_BASE} + (s.f >> 32))::int, s.f::bit(32)::int) AS held
  FROM o, (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS f FROM resource_version_seq) AS s`;

/**
 * The watermark: every version at or below it that will ever commit has committed. The sequence
 * is read first (the correlated subquery over pg_locks runs per row of the materialised CTE).
 */
const WATERMARK_SQL = `WITH s AS MATERIALIZED (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS l FROM resource_version_seq)
  SELECT least(s.l, (SELECT min((l.classid::bigint - ${FLOOR_LOCK_BASE}) * 4294967296 + l.objid::bigint) FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND s.l IS NOT NULL
       AND l.classid::bigint BETWEEN ${FLOOR_LOCK_BASE} AND ${FLOOR_LOCK_BASE + 65535}
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))::text AS w
  FROM s`;

export function toResource(row: ResourceRow): Resource {
  return {
    apiVersion: 'pressluft.io/v1',
    kind: row.kind as KindName,
    metadata: {
      name: row.name,
      uid: row.uid,
      generation: Number(row.generation),
      resourceVersion: String(row.resourceVersion),
      labels: row.labels,
      annotations: row.annotations,
      finalizers: row.finalizers,
      creationTimestamp: row.creationTimestamp.toISOString(),
      ...(row.deletionTimestamp ? { deletionTimestamp: row.deletionTimestamp.toISOString() } : {}),
    },
    spec: row.spec,
    status: row.status,
  };
}

/** The writable part of an existing object, to change a field or two and write it back. */
export function writeOf(resource: Resource): ObjectWrite {
  return {
    kind: resource.kind,
    name: resource.metadata.name,
    labels: resource.metadata.labels,
    annotations: resource.metadata.annotations,
    finalizers: resource.metadata.finalizers,
    spec: resource.spec,
    status: resource.status as Record<string, unknown>,
    generation: resource.metadata.generation,
    deletionTimestamp: resource.metadata.deletionTimestamp,
  };
}

const COLUMNS = `kind, name, uid, generation, resource_version, labels, annotations, finalizers, spec, status, creation_timestamp, deletion_timestamp`;

interface RawRow {
  kind: string;
  name: string;
  uid: string;
  generation: string;
  resource_version: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  finalizers: string[];
  spec: unknown;
  status: Record<string, unknown>;
  creation_timestamp: Date;
  deletion_timestamp: Date | null;
}

/**
 * A stored object as its kind's type: every row of kind K was validated against K's schemas on
 * its way in (the API) or written by the control plane from K's type, so the kind says the type.
 */
function ofKind<K extends KindName>(object: Resource): ResourceOf<K> {
  return object as ResourceOf<K>;
}

function commandOf(raw: RawRow): ResourceOf<'Command'> {
  return ofKind<'Command'>(fromRaw(raw));
}

function fromRaw(raw: RawRow): Resource {
  return toResource(
    Object.assign(new ResourceRow(), {
      kind: raw.kind,
      name: raw.name,
      uid: raw.uid,
      generation: raw.generation,
      resourceVersion: raw.resource_version,
      labels: raw.labels,
      annotations: raw.annotations,
      finalizers: raw.finalizers,
      spec: raw.spec,
      status: raw.status,
      creationTimestamp: raw.creation_timestamp,
      deletionTimestamp: raw.deletion_timestamp,
    }),
  );
}

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

/** An optimistic write found the object changed since it was read, or needs more than one write. */
export class NeedsTransaction extends Error {
  constructor() {
    super('this write needs a transaction');
  }
}

/**
 * One transaction over resources: reads may lock rows; every write records a change and takes a
 * new resourceVersion. Raw SQL with RETURNING keeps each write to one round trip: the object's
 * lock and the floor lock are held from the first write to the commit.
 */
export class ResourceTransaction {
  /**
   * The transaction itself, for writes beside resources (outbox, receipts, the leader fence).
   * `optimistic`: no transaction at all (see ResourceStore.optimistically): reads do not lock,
   * the one write allowed is a compare-and-swap on the resourceVersion that was read, and
   * anything else throws NeedsTransaction before it writes.
   */
  constructor(
    readonly manager: EntityManager,
    options: { optimistic?: boolean; cache?: ObjectCache | undefined; audit?: RequestAudit | undefined } = {},
  ) {
    this.optimistic = options.optimistic ?? false;
    this.cache = options.cache;
    this.audit = options.audit;
  }

  private readonly optimistic: boolean;
  private readonly cache: ObjectCache | undefined;
  private readonly audit: RequestAudit | undefined;
  private wrote = false;
  /** The request's audit row went in with a write of this transaction (it commits with it). */
  audited = false;
  /** A read was answered from the cache (optimistic mode only): only a successful write proves it current. */
  readFromCache = false;
  /** Objects this transaction read from the database or wrote (undefined: removed), newest last. */
  readonly seen = new Map<string, { kind: KindName; name: string; object: Resource | undefined }>();
  /** A write of this transaction returned its new version. */
  written = false;

  private see(kind: KindName, name: string, object: Resource | undefined): void {
    this.seen.set(`${kind}/${name}`, { kind, name, object });
  }

  /** In optimistic mode: claims the one write, or gives up before writing when more may follow. */
  private casVersion(current: Resource): string | undefined {
    if (!this.optimistic) return undefined;
    if (this.wrote) throw new Error('an optimistic write writes once; a second write needs a transaction');
    this.wrote = true;
    return current.metadata.resourceVersion;
  }

  async get<K extends KindName>(kind: K, name: string, options: { lock?: boolean } = {}): Promise<ResourceOf<K> | undefined> {
    const cached = this.optimistic ? this.cache?.get(kind, name) : undefined;
    if (cached) {
      this.readFromCache = true;
      this.see(kind, name, cached);
      return ofKind<K>(cached);
    }
    // A locking read takes the object's lock first, in the order every write takes it (no deadlock).
    const rows = await queryPrepared<RawRow[]>(
      this.manager,
      options.lock && !this.optimistic
        ? `SELECT ${COLUMNS} FROM (SELECT pg_advisory_xact_lock(${OBJECT_LOCK_CLASS}, hashtext($1 || '/' || $2))) AS o, resources
            WHERE kind = $1 AND name = $2 FOR UPDATE OF resources`
        : `SELECT ${COLUMNS} FROM resources WHERE kind = $1 AND name = $2`,
      [kind, name],
    );
    const object = rows[0] ? fromRaw(rows[0]) : undefined;
    if (!object) return undefined;
    this.see(kind, name, object);
    return ofKind<K>(object);
  }

  /** Inserts a new object; undefined when the name was taken meanwhile (the caller re-reads and decides). */
  async create<K extends KindName>(write: ObjectWrite<K>, now: Date): Promise<ResourceOf<K> | undefined> {
    // A create records an Event too: two writes, so it needs a transaction.
    if (this.optimistic) throw new NeedsTransaction();
    const object: Resource = {
      apiVersion: 'pressluft.io/v1',
      kind: write.kind,
      metadata: {
        name: write.name,
        uid: randomUUID(),
        generation: write.generation,
        resourceVersion: '',
        labels: write.labels,
        annotations: write.annotations,
        finalizers: write.finalizers,
        creationTimestamp: now.toISOString(),
      },
      spec: write.spec,
      status: write.status,
    };
    const created = await this.writeWithChange(
      `INSERT INTO resources (${COLUMNS}) VALUES ($1, $2, $3, $4, (SELECT v FROM rv), $5, $6, $7, $8, $9, $10, NULL)
       ON CONFLICT DO NOTHING RETURNING resource_version`,
      [write.kind, write.name, object.metadata.uid, write.generation, write.labels, write.annotations, JSON.stringify(write.finalizers), JSON.stringify(write.spec), write.status, now],
      'ADDED',
      object,
      now,
    );
    return created && ofKind<K>(created);
  }

  /** The object as written; `write` is of `current`'s kind, so the result has its type. */
  async update<R extends Resource>(current: R, write: ObjectWrite, now: Date): Promise<R> {
    const expected = this.casVersion(current);
    const { deletionTimestamp: _previous, ...metadata } = current.metadata;
    const object: Resource = {
      ...current,
      metadata: {
        ...metadata,
        generation: write.generation,
        labels: write.labels,
        annotations: write.annotations,
        finalizers: write.finalizers,
        ...(write.deletionTimestamp ? { deletionTimestamp: new Date(write.deletionTimestamp).toISOString() } : {}),
      },
      spec: write.spec,
      status: write.status,
    };
    const updated = await this.writeWithChange(
      `UPDATE resources SET generation = $3, resource_version = (SELECT v FROM rv), labels = $4, annotations = $5, finalizers = $6, spec = $7, status = $8, deletion_timestamp = $9
        WHERE kind = $1 AND name = $2${expected === undefined ? '' : ' AND resource_version = $10'} RETURNING resource_version`,
      [
        current.kind,
        current.metadata.name,
        write.generation,
        write.labels,
        write.annotations,
        JSON.stringify(write.finalizers),
        JSON.stringify(write.spec),
        write.status,
        write.deletionTimestamp ? new Date(write.deletionTimestamp) : null,
        ...(expected === undefined ? [] : [expected]),
      ],
      'MODIFIED',
      object,
      now,
    );
    if (!updated && expected !== undefined) throw new NeedsTransaction();
    if (!updated) throw new Error(`resource ${current.kind}/${current.metadata.name} vanished inside its own transaction`);
    return updated as R;
  }

  /** Removes the row; the DELETED change carries the last state with a new resourceVersion. */
  async remove(current: Resource, now: Date): Promise<Resource> {
    const expected = this.casVersion(current);
    const gone = await this.writeWithChange(
      `DELETE FROM resources WHERE kind = $1 AND name = $2${expected === undefined ? '' : ' AND resource_version = $3'} RETURNING (SELECT v FROM rv) AS resource_version`,
      [current.kind, current.metadata.name, ...(expected === undefined ? [] : [expected])],
      'DELETED',
      current,
      now,
    );
    if (!gone && expected !== undefined) throw new NeedsTransaction();
    if (!gone) throw new Error(`resource ${current.kind}/${current.metadata.name} vanished inside its own transaction`);
    return gone;
  }

  /**
   * One statement per write: take the object's lock, on the first write also the floor lock (see
   * FLOOR_LOCK_BASE), draw the next version, write the row and append the change.
   */
  private async writeWithChange(rowSql: string, params: unknown[], type: ChangeType, object: Resource, now: Date): Promise<Resource | undefined> {
    const n = params.length;
    const floor = this.floorHeld ? `SELECT true AS held FROM o` : FLOOR_LOCK_SQL;
    const audit = this.audit && !this.audited && this.audit.kind === object.kind ? this.audit : undefined;
    const rows = await queryPrepared<Array<{ rv: string }>>(
      this.manager,
      `WITH o AS MATERIALIZED (SELECT pg_advisory_xact_lock(${OBJECT_LOCK_CLASS}, hashtext($${n + 1} || '/' || $${n + 2})) AS held),
            f AS MATERIALIZED (${floor}),
            rv AS MATERIALIZED (SELECT nextval('resource_version_seq') AS v FROM f),
            written AS (${rowSql}),
            change AS (
              INSERT INTO resource_changes (resource_version, kind, name, type, object, changed_at)
              SELECT written.resource_version, $${n + 1}, $${n + 2}, $${n + 3},
                     jsonb_set($${n + 4}::jsonb, '{metadata,resourceVersion}', to_jsonb(written.resource_version::text)), $${n + 5}
                FROM written)${
              audit
                ? `,
            audit AS (
              ${AUDIT_INSERT}
              SELECT $${n + 6}, $${n + 7}, $${n + 8}, $${n + 9}, $${n + 10}, NULL, $${n + 11} FROM written)`
                : ''
            }
       SELECT resource_version::text AS rv FROM written`,
      [
        ...params,
        object.kind,
        object.metadata.name,
        type,
        JSON.stringify(object),
        now,
        ...(audit ? [audit.at, audit.subject, audit.verb, audit.path, audit.code(type), audit.requestId] : []),
      ],
    );
    // A version may have been drawn: commit or rollback moves the watermark, the watchers should look.
    this.changed = true;
    const rv = rows[0]?.rv;
    if (rv === undefined) return undefined;
    // Only a returned version proves the floor lock was taken (an UPDATE of no row evaluates nothing).
    this.floorHeld = true;
    this.written = true;
    if (audit) this.audited = true;
    const result = { ...object, metadata: { ...object.metadata, resourceVersion: rv } };
    this.see(object.kind, object.metadata.name, type === 'DELETED' ? undefined : result);
    return result;
  }

  private floorHeld = false;

  /** True once this transaction drew a version (the store then wakes the watchers after commit or rollback). */
  changed = false;
}

/** The newest committed resourceVersion at or below the watermark $1 (read in a snapshot taken after it). */
const LATEST_VERSION_SQL = `SELECT coalesce(max(resource_version), 0)::text AS rv FROM resource_changes WHERE resource_version <= $1`;

/** The value of `#>>` for a spec filter, computed on a stored object. */
function specText(spec: unknown, path: readonly string[]): string | undefined {
  let value: unknown = spec;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = Array.isArray(value) ? value[Number(key)] : (value as Record<string, unknown>)[key];
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface ListOptions {
  readonly names?: readonly string[] | undefined;
  /** Equality on spec fields (events by involvedObject, commands by site). */
  readonly specFilters?: ReadonlyArray<{ readonly path: readonly string[]; readonly value: string }>;
}

/** The state store: PostgreSQL through TypeORM. All writes happen inside `transaction`. */
export class ResourceStore {
  private notifyPending = false;
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
        if (tx?.changed) this.wakeWatchers();
        return result;
      } catch (error) {
        if (tx) this.forget(tx);
        // A rolled-back version is a gap that may have held the watermark back: let watchers move on.
        if (tx?.changed) this.wakeWatchers();
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
      if (tx.changed) this.wakeWatchers();
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
    return rows.map((row) => ofKind<K>(fromRaw(row)));
  }

  /**
   * NOTIFY after commit, at most one per NOTIFY_COALESCE_MS: a NOTIFY inside the write transaction
   * serialises commits on PostgreSQL's notification queue (it halved write throughput), and the
   * watchers read the change log themselves anyway. At 2 ms nearly every write under load still
   * paid a round trip of its own. A notification lost to a crash only delays them until their
   * next poll.
   */
  private wakeWatchers(): void {
    if (this.notifyPending) return;
    this.notifyPending = true;
    setTimeout(() => {
      this.notifyPending = false;
      this.dataSource.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, '']).catch(() => undefined);
    }, NOTIFY_COALESCE_MS);
  }

  /**
   * Objects of a kind ordered by name, and the resourceVersion the list is consistent with, so a
   * watch from it misses nothing and repeats nothing. The snapshot is taken after the watermark W
   * was read, so it holds every version up to W; changes above W it may also hold (committed out
   * of order) are undone from the change log: those objects are listed as they were at W.
   */
  async list<K extends KindName>(kind: K, options: ListOptions = {}): Promise<{ items: Array<ResourceOf<K>>; resourceVersion: string }> {
    const watermark = await this.watermark();
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const query = manager.getRepository(ResourceRow).createQueryBuilder('r').where('r.kind = :kind', { kind }).orderBy('r.name', 'ASC');
      if (options.names) query.andWhere('r.name IN (:...names)', { names: options.names.length ? options.names : [''] });
      (options.specFilters ?? []).forEach((filter, i) => {
        query.andWhere(`r.spec #>> :path${i} = :value${i}`, { [`path${i}`]: filter.path, [`value${i}`]: filter.value });
      });
      const rows = await query.getMany();
      const [head] = await manager.query<Array<{ rv: string; late: string[] }>>(
        `SELECT (${LATEST_VERSION_SQL}) AS rv,
                ARRAY(SELECT DISTINCT name FROM resource_changes WHERE kind = $2 AND resource_version > $1) AS late`,
        [watermark, kind],
      );
      let items = rows.map(toResource);
      const late = head?.late ?? [];
      if (late.length > 0) {
        const wanted = (object: Resource) =>
          (!options.names || options.names.includes(object.metadata.name)) &&
          (options.specFilters ?? []).every((filter) => specText(object.spec, filter.path) === filter.value);
        const before = await manager.query<Array<{ name: string; type: ChangeType | null; object: Resource | null }>>(
          `SELECT n.name, c.type, c.object FROM unnest($2::text[]) AS n(name)
             LEFT JOIN LATERAL (SELECT type, object FROM resource_changes
                                 WHERE kind = $1 AND name = n.name AND resource_version <= $3 ORDER BY resource_version DESC LIMIT 1) AS c ON true`,
          [kind, late, watermark],
        );
        const lateNames = new Set(late);
        items = items.filter((item) => !lateNames.has(item.metadata.name));
        for (const { type, object } of before) if (object && type !== 'DELETED' && wanted(object)) items.push(object);
        items.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
      }
      return { items: items.map((item) => ofKind<K>(item)), resourceVersion: head?.rv ?? '0' };
    });
  }

  /**
   * A site's newest command (highest fence) of this incarnation: a site deleted and created again
   * under the same name has another uid, and its predecessor's commands are history, not its own.
   */
  async latestCommandFor(site: string, uid: string): Promise<ResourceOf<'Command'> | undefined> {
    const rows = await queryPrepared<RawRow[]>(
      this.dataSource,
      `SELECT ${COLUMNS} FROM resources WHERE kind = 'Command' AND spec ->> 'site' = $1
          AND (labels ->> '${COMMAND_SITE_UID_LABEL}' = $2 OR NOT labels ? '${COMMAND_SITE_UID_LABEL}')
        ORDER BY (spec ->> 'fence')::bigint DESC LIMIT 1`,
      [site, uid],
    );
    return rows[0] && commandOf(rows[0]);
  }

  /** Each site name's newest command (highest fence), for the engine's informer cache. */
  async latestCommands(): Promise<Array<ResourceOf<'Command'>>> {
    const rows = await this.dataSource.query<RawRow[]>(
      `SELECT DISTINCT ON (spec ->> 'site') ${COLUMNS} FROM resources WHERE kind = 'Command' ORDER BY spec ->> 'site', (spec ->> 'fence')::bigint DESC`,
    );
    return rows.map(commandOf);
  }

  /** Commands on the bus that have not finished: the ones that can stall. */
  async commandsDispatched(): Promise<Array<ResourceOf<'Command'>>> {
    const rows = await this.dataSource.query<RawRow[]>(
      `SELECT ${COLUMNS} FROM resources WHERE kind = 'Command' AND status ->> 'state' IN ('DISPATCHED', 'RUNNING')`,
    );
    return rows.map(commandOf);
  }

  async commandCountsByState(): Promise<Map<string, number>> {
    const rows = await this.dataSource.query<Array<{ state: string; count: string }>>(
      `SELECT status ->> 'state' AS state, count(*)::text AS count FROM resources WHERE kind = 'Command' GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.state, Number(r.count)]));
  }

  /** Changes of the given kinds after a resourceVersion, oldest first (watches and the engine's informer). */
  async changesAfter(kinds: readonly KindName[], resourceVersion: string, limit = 500): Promise<Array<{ type: ChangeType; object: Resource }>> {
    // Only up to the watermark, read before this query's snapshot: a version committing later
    // with a lower number than one already read would otherwise be skipped.
    const watermark = await this.watermark();
    if (BigInt(watermark) <= BigInt(resourceVersion)) return [];
    return queryPrepared<Array<{ type: ChangeType; object: Resource }>>(
      this.dataSource,
      `SELECT type, object FROM resource_changes WHERE resource_version > $1 AND resource_version <= $4 AND kind = ANY($2) ORDER BY resource_version LIMIT $3`,
      [resourceVersion, kinds, limit, watermark],
    );
  }

  async names(kind: KindName): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ name: string }>>(`SELECT name FROM resources WHERE kind = $1`, [kind]);
    return rows.map((r) => r.name);
  }

  /** How many sites each node has bound (for the scheduler's tie-break). */
  async countSitesByNode(): Promise<Map<string, number>> {
    const rows = await this.dataSource.query<Array<{ node: string; count: string }>>(
      `SELECT status ->> 'nodeName' AS node, count(*)::text AS count FROM resources WHERE kind = 'Site' AND status ->> 'nodeName' IS NOT NULL GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.node, Number(r.count)]));
  }

  /** The newest committed resourceVersion of any kind below which nothing is still in flight. */
  async latestResourceVersion(): Promise<string> {
    const watermark = await this.watermark();
    const [row] = await this.dataSource.query<Array<{ rv: string }>>(LATEST_VERSION_SQL, [watermark]);
    return row?.rv ?? '0';
  }
}
