import { randomUUID } from 'node:crypto';
import type { KindName, Resource, ResourceOf } from '@pressluft/domain';
import type { EntityManager } from 'typeorm';
import { AUDIT_INSERT } from '../audit/audit.repository.js';
import { deleteSecret } from '../secrets/resource-secrets.repository.js';
import { hasWriteOnlyFields } from '../secrets/write-only-credentials.js';
import type { AuditedRequest } from '../audit/request-audit.js';
import { queryPrepared } from '../persistence/prepared.js';
import type { ObjectCache } from './object-cache.js';
import { claimSiteDomains, releaseSiteDomains, type TakenDomain } from './site-domains.repository.js';
import { COLUMNS, fromRaw, ofKind, type ChangeType, type ObjectWrite, type RawRow } from './resource-rows.js';
import { FLOOR_LOCK_SQL, OBJECT_LOCK_CLASS } from './version-locks.js';

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

  /** Work that writes beside the object (its secret) needs a transaction: in optimistic mode it gives up before writing. */
  requireTransaction(): void {
    if (this.optimistic) throw new NeedsTransaction();
  }

  async get<K extends KindName>(kind: K, name: string, options: { lock?: boolean } = {}): Promise<ResourceOf<K> | undefined> {
    // PostgreSQL text cannot hold a NUL (a path's %00): no object has such a name, and the query would fail.
    if (name.includes('\0')) return undefined;
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

  /**
   * A Site gives up `released` and claims `claimed` (see claimSiteDomains): the first claimed
   * domain another site holds, or undefined. More than one write: needs a transaction.
   */
  async claimDomains(site: string, claimed: readonly string[], released: readonly string[]): Promise<TakenDomain | undefined> {
    if (this.optimistic) throw new NeedsTransaction();
    return claimSiteDomains(this.manager, site, claimed, released);
  }

  /** Removes the row; the DELETED change carries the last state with a new resourceVersion. A Site's domains and a BackupStore's secret go with it. */
  async remove(current: Resource, now: Date): Promise<Resource> {
    if ((current.kind === 'Site' || current.kind === 'BackupStore') && this.optimistic) throw new NeedsTransaction();
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
    if (current.kind === 'Site') await releaseSiteDomains(this.manager, current.metadata.name);
    if (hasWriteOnlyFields(current.kind)) await deleteSecret(this.manager, current.kind, current.metadata.name);
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
    this.changedKinds.add(object.kind);
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

  /** The kinds this transaction drew a version for (the store then wakes the watchers after commit or rollback, naming them). */
  readonly changedKinds = new Set<KindName>();
}
