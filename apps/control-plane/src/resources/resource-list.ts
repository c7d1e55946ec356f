import type { KindName, Resource, ResourceOf } from '@pressluft/domain';
import type { DataSource } from 'typeorm';
import { ResourceRow } from '../persistence/entities.js';
import { ofKind, toResource, type ChangeType } from './resource-rows.js';
import { LATEST_VERSION_SQL } from './version-locks.js';

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

/**
 * The list of `kind` consistent with resourceVersion `watermark` (read before this snapshot), see
 * ResourceStore.list.
 */
export async function listAt<K extends KindName>(
  dataSource: DataSource,
  kind: K,
  watermark: string,
  options: ListOptions,
): Promise<{ items: Array<ResourceOf<K>>; resourceVersion: string }> {
  return dataSource.transaction('REPEATABLE READ', async (manager) => {
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
