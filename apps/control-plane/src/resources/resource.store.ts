import { randomUUID } from 'node:crypto';
import { COMMAND_SITE_UID_LABEL, type CommandSpec, type CommandStatus, type KindName, type Resource } from '@pressluft/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { ResourceRow } from '../persistence/entities.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Everything about an object a writer decides; the store owns uid, resourceVersion and timestamps. */
export interface ObjectWrite {
  readonly kind: KindName;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly finalizers: string[];
  readonly spec: unknown;
  readonly status: Record<string, unknown>;
  readonly generation: number;
  readonly deletionTimestamp?: string | undefined;
}

/** NOTIFY channel carrying the resourceVersion of each committed change (watches wake on it). */
export const CHANGE_CHANNEL = 'pressluft_changes';

/**
 * Serialises resourceVersion assignment with commit order: a transaction takes this lock right
 * before nextval and holds it to commit, so a watcher reading "changes > R" never skips a
 * version that commits later with a lower number.
 */
const RESOURCE_VERSION_LOCK = 7_210_002;

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
 * One transaction over resources: reads may lock rows; every write records a change and takes a
 * new resourceVersion. Raw SQL with RETURNING keeps each write to few round trips, because the
 * resourceVersion lock is held from the first write to the commit.
 */
export class ResourceTransaction {
  /** The transaction itself, for writes beside resources (outbox, receipts, the leader fence). */
  constructor(readonly manager: EntityManager) {}

  async get(kind: KindName, name: string, options: { lock?: boolean } = {}): Promise<Resource | undefined> {
    const rows = await this.manager.query<RawRow[]>(
      `SELECT ${COLUMNS} FROM resources WHERE kind = $1 AND name = $2${options.lock ? ' FOR UPDATE' : ''}`,
      [kind, name],
    );
    return rows[0] ? fromRaw(rows[0]) : undefined;
  }

  /** Inserts a new object; undefined when the name was taken meanwhile (the caller re-reads and decides). */
  async create(write: ObjectWrite, now: Date): Promise<Resource | undefined> {
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
    return this.writeWithChange(
      `INSERT INTO resources (${COLUMNS}) VALUES ($1, $2, $3, $4, (SELECT v FROM rv), $5, $6, $7, $8, $9, $10, NULL)
       ON CONFLICT DO NOTHING RETURNING resource_version`,
      [write.kind, write.name, object.metadata.uid, write.generation, write.labels, write.annotations, JSON.stringify(write.finalizers), JSON.stringify(write.spec), write.status, now],
      'ADDED',
      object,
      now,
    );
  }

  async update(current: Resource, write: ObjectWrite, now: Date): Promise<Resource> {
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
        WHERE kind = $1 AND name = $2 RETURNING resource_version`,
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
      ],
      'MODIFIED',
      object,
      now,
    );
    if (!updated) throw new Error(`resource ${current.kind}/${current.metadata.name} vanished inside its own transaction`);
    return updated;
  }

  /** Removes the row; the DELETED change carries the last state with a new resourceVersion. */
  async remove(current: Resource, now: Date): Promise<Resource> {
    const gone = await this.writeWithChange(
      `DELETE FROM resources WHERE kind = $1 AND name = $2 RETURNING (SELECT v FROM rv) AS resource_version`,
      [current.kind, current.metadata.name],
      'DELETED',
      current,
      now,
    );
    if (!gone) throw new Error(`resource ${current.kind}/${current.metadata.name} vanished inside its own transaction`);
    return gone;
  }

  /**
   * One statement per write: take the resourceVersion lock, draw the next version, write the row
   * and append the change. The lock is held from here to commit, so keeping this to one round
   * trip keeps the serialised part of every write short.
   */
  private async writeWithChange(rowSql: string, params: unknown[], type: ChangeType, object: Resource, now: Date): Promise<Resource | undefined> {
    const n = params.length;
    const rows = await this.manager.query<Array<{ rv: string }>>(
      `WITH rv AS (SELECT nextval('resource_version_seq') AS v FROM (SELECT pg_advisory_xact_lock($${n + 1})) AS locked),
            written AS (${rowSql}),
            change AS (
              INSERT INTO resource_changes (resource_version, kind, name, type, object, changed_at)
              SELECT written.resource_version, $${n + 2}, $${n + 3}, $${n + 4},
                     jsonb_set($${n + 5}::jsonb, '{metadata,resourceVersion}', to_jsonb(written.resource_version::text)), $${n + 6}
                FROM written)
       SELECT resource_version::text AS rv FROM written`,
      [...params, RESOURCE_VERSION_LOCK, object.kind, object.metadata.name, type, JSON.stringify(object), now],
    );
    const rv = rows[0]?.rv;
    if (rv === undefined) return undefined;
    this.changed = true;
    return { ...object, metadata: { ...object.metadata, resourceVersion: rv } };
  }

  /** True once this transaction recorded a change (the store then wakes the watchers after commit). */
  changed = false;
}

/** The newest committed resourceVersion (commits happen in version order, see RESOURCE_VERSION_LOCK). */
const LATEST_VERSION_SQL = `SELECT coalesce(max(resource_version), 0)::text AS rv FROM resource_changes`;

export interface ListOptions {
  readonly names?: readonly string[] | undefined;
  /** Equality on spec fields (events by involvedObject, commands by site). */
  readonly specFilters?: ReadonlyArray<{ readonly path: readonly string[]; readonly value: string }>;
}

/** The state store: PostgreSQL through TypeORM. All writes happen inside `transaction`. */
export class ResourceStore {
  private notifyPending = false;

  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; a deadlock or serialization failure is retried (twice). */
  async transaction<T>(work: (tx: ResourceTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        let changed = false;
        const result = await this.dataSource.transaction(async (manager) => {
          const tx = new ResourceTransaction(manager);
          const value = await work(tx);
          changed = tx.changed;
          return value;
        });
        if (changed) this.wakeWatchers();
        return result;
      } catch (error) {
        const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
      }
    }
  }

  async get(kind: KindName, name: string): Promise<Resource | undefined> {
    return new ResourceTransaction(this.dataSource.manager).get(kind, name);
  }

  /**
   * NOTIFY after commit, at most one per few milliseconds: a NOTIFY inside the write transaction
   * serialises commits on PostgreSQL's notification queue (it halved write throughput), and the
   * watchers read the change log themselves anyway. A notification lost to a crash only delays
   * them until their next poll.
   */
  private wakeWatchers(): void {
    if (this.notifyPending) return;
    this.notifyPending = true;
    setTimeout(() => {
      this.notifyPending = false;
      this.dataSource.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, '']).catch(() => undefined);
    }, 2);
  }

  /**
   * Objects of a kind ordered by name, and the resourceVersion the list is consistent with
   * (read in one snapshot, so a watch from it misses nothing and repeats nothing).
   */
  async list(kind: KindName, options: ListOptions = {}): Promise<{ items: Resource[]; resourceVersion: string }> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const query = manager.getRepository(ResourceRow).createQueryBuilder('r').where('r.kind = :kind', { kind }).orderBy('r.name', 'ASC');
      if (options.names) query.andWhere('r.name IN (:...names)', { names: options.names.length ? options.names : [''] });
      (options.specFilters ?? []).forEach((filter, i) => {
        query.andWhere(`r.spec #>> :path${i} = :value${i}`, { [`path${i}`]: filter.path, [`value${i}`]: filter.value });
      });
      const rows = await query.getMany();
      const [head] = await manager.query<Array<{ rv: string }>>(LATEST_VERSION_SQL);
      return { items: rows.map(toResource), resourceVersion: head?.rv ?? '0' };
    });
  }


  /**
   * A site's newest command (highest fence) of this incarnation: a site deleted and created again
   * under the same name has another uid, and its predecessor's commands are history, not its own.
   */
  async latestCommandFor(site: string, uid: string): Promise<Resource | undefined> {
    const rows = await this.dataSource.query<RawRow[]>(
      `SELECT ${COLUMNS} FROM resources WHERE kind = 'Command' AND spec ->> 'site' = $1
          AND (labels ->> '${COMMAND_SITE_UID_LABEL}' = $2 OR NOT labels ? '${COMMAND_SITE_UID_LABEL}')
        ORDER BY (spec ->> 'fence')::bigint DESC LIMIT 1`,
      [site, uid],
    );
    return rows[0] ? fromRaw(rows[0]) : undefined;
  }

  /** Commands not finished yet, with the time the relay published each (if it did). */
  async commandsInFlight(): Promise<Array<{ command: Resource<CommandSpec, CommandStatus>; sentAt: string | undefined }>> {
    const rows = await this.dataSource.query<Array<RawRow & { sent_at: Date | null }>>(
      `SELECT ${COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')}, o.sent_at FROM resources r LEFT JOIN outbox o ON o.command = r.name
        WHERE r.kind = 'Command' AND r.status ->> 'state' IN ('PENDING', 'DISPATCHED', 'RUNNING')`,
    );
    return rows.map((row) => ({ command: fromRaw(row) as Resource<CommandSpec, CommandStatus>, sentAt: row.sent_at?.toISOString() }));
  }

  async commandCountsByState(): Promise<Map<string, number>> {
    const rows = await this.dataSource.query<Array<{ state: string; count: string }>>(
      `SELECT status ->> 'state' AS state, count(*)::text AS count FROM resources WHERE kind = 'Command' GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.state, Number(r.count)]));
  }

  /** Changes of the given kinds after a resourceVersion, oldest first (watches and the engine's informer). */
  async changesAfter(kinds: readonly KindName[], resourceVersion: string, limit = 500): Promise<Array<{ type: ChangeType; object: Resource }>> {
    return this.dataSource.query<Array<{ type: ChangeType; object: Resource }>>(
      `SELECT type, object FROM resource_changes WHERE resource_version > $1 AND kind = ANY($2) ORDER BY resource_version LIMIT $3`,
      [resourceVersion, kinds, limit],
    );
  }

  /** Names of the sites bound to a node. */
  async sitesOnNode(node: string): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ name: string }>>(`SELECT name FROM resources WHERE kind = 'Site' AND status ->> 'nodeName' = $1`, [node]);
    return rows.map((r) => r.name);
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

  /** The newest committed resourceVersion of any kind. */
  async latestResourceVersion(): Promise<string> {
    const [row] = await this.dataSource.query<Array<{ rv: string }>>(LATEST_VERSION_SQL);
    return row?.rv ?? '0';
  }
}
