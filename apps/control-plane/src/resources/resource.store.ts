import { randomUUID } from 'node:crypto';
import type { KindName, Resource } from '@pressluft/domain';
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

/** One transaction over resources: reads lock rows, every write records a change and bumps the version. */
export class ResourceTransaction {
  constructor(private readonly manager: EntityManager) {}

  async get(kind: KindName, name: string, options: { lock?: boolean } = {}): Promise<Resource | undefined> {
    const query = this.manager.getRepository(ResourceRow).createQueryBuilder('r').where('r.kind = :kind AND r.name = :name', { kind, name });
    if (options.lock) query.setLock('pessimistic_write');
    const row = await query.getOne();
    return row ? toResource(row) : undefined;
  }

  /** Inserts a new object; undefined when the name was taken meanwhile (the caller re-reads and decides). */
  async create(write: ObjectWrite, now: Date): Promise<Resource | undefined> {
    const rv = await this.nextResourceVersion();
    const inserted = await this.manager
      .createQueryBuilder()
      .insert()
      .into(ResourceRow)
      .values({
        kind: write.kind,
        name: write.name,
        uid: randomUUID(),
        generation: String(write.generation),
        resourceVersion: String(rv),
        labels: write.labels,
        annotations: write.annotations,
        finalizers: write.finalizers,
        spec: write.spec as object,
        status: write.status as object,
        creationTimestamp: now,
        deletionTimestamp: null,
      })
      .orIgnore()
      .returning('*')
      .execute();
    const raw = (inserted.raw as Array<Record<string, unknown>>)[0];
    if (!raw) return undefined;
    const created = await this.get(write.kind, write.name);
    if (!created) throw new Error(`resource ${write.kind}/${write.name} vanished inside its own transaction`);
    await this.recordChange('ADDED', created, now);
    return created;
  }

  async update(current: Resource, write: ObjectWrite, now: Date): Promise<Resource> {
    const rv = await this.nextResourceVersion();
    await this.manager
      .createQueryBuilder()
      .update(ResourceRow)
      .set({
        generation: String(write.generation),
        resourceVersion: String(rv),
        labels: write.labels,
        annotations: write.annotations,
        finalizers: write.finalizers,
        spec: write.spec as object,
        status: write.status as object,
        deletionTimestamp: write.deletionTimestamp ? new Date(write.deletionTimestamp) : null,
      })
      .where('kind = :kind AND name = :name', { kind: current.kind, name: current.metadata.name })
      .execute();
    const updated = await this.get(current.kind, current.metadata.name);
    if (!updated) throw new Error(`resource ${current.kind}/${current.metadata.name} vanished inside its own transaction`);
    await this.recordChange('MODIFIED', updated, now);
    return updated;
  }

  /** Removes the row; the DELETED change carries the last state with a new resourceVersion. */
  async remove(current: Resource, now: Date): Promise<Resource> {
    const rv = await this.nextResourceVersion();
    await this.manager.delete(ResourceRow, { kind: current.kind, name: current.metadata.name });
    const gone: Resource = { ...current, metadata: { ...current.metadata, resourceVersion: String(rv) } };
    await this.recordChange('DELETED', gone, now);
    return gone;
  }

  private async nextResourceVersion(): Promise<string> {
    await this.manager.query('SELECT pg_advisory_xact_lock($1)', [RESOURCE_VERSION_LOCK]);
    const [row] = await this.manager.query<Array<{ rv: string }>>(`SELECT nextval('resource_version_seq')::text AS rv`);
    if (!row) throw new Error('resource_version_seq returned nothing');
    return row.rv;
  }

  private async recordChange(type: ChangeType, object: Resource, now: Date): Promise<void> {
    await this.manager.query(
      `INSERT INTO resource_changes (resource_version, kind, name, type, object, changed_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [object.metadata.resourceVersion, object.kind, object.metadata.name, type, JSON.stringify(object), now],
    );
    await this.manager.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, object.metadata.resourceVersion]);
  }
}

export interface ListOptions {
  readonly names?: readonly string[] | undefined;
  /** Equality on spec fields (events by involvedObject, commands by site). */
  readonly specFilters?: ReadonlyArray<{ readonly path: readonly string[]; readonly value: string }>;
}

/** The state store: PostgreSQL through TypeORM. All writes happen inside `transaction`. */
export class ResourceStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; a deadlock or serialization failure is retried (twice). */
  async transaction<T>(work: (tx: ResourceTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction('READ COMMITTED', (manager) => work(new ResourceTransaction(manager)));
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
      const [head] = await manager.query<Array<{ rv: string }>>(`SELECT coalesce(max(resource_version), 0)::text AS rv FROM resource_changes`);
      return { items: rows.map(toResource), resourceVersion: head?.rv ?? '0' };
    });
  }

  /** Changes of a kind after `resourceVersion`, oldest first. */
  async changesAfter(kind: KindName, resourceVersion: string, limit = 500): Promise<Array<{ type: ChangeType; object: Resource }>> {
    return this.dataSource.query<Array<{ type: ChangeType; object: Resource }>>(
      `SELECT type, object FROM resource_changes WHERE kind = $1 AND resource_version > $2 ORDER BY resource_version LIMIT $3`,
      [kind, resourceVersion, limit],
    );
  }

  /** The newest committed resourceVersion of any kind. */
  async latestResourceVersion(): Promise<string> {
    const [row] = await this.dataSource.query<Array<{ rv: string }>>(`SELECT coalesce(max(resource_version), 0)::text AS rv FROM resource_changes`);
    return row?.rv ?? '0';
  }
}
