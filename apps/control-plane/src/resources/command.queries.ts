import { COMMAND_SITE_UID_LABEL, type ResourceOf } from '@pressluft/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';
import { COLUMNS, fromRawOfKind, type RawRow } from './resource-rows.js';

/**
 * The engine's queries over Command resources (and sites per node): what the reconcilers, the
 * informer and the stall detector ask of the resources table beyond reads by name.
 */
export class CommandQueries {
  constructor(private readonly db: DataSource) {}

  /**
   * A site's newest command (highest fence) of this incarnation: a site deleted and created again
   * under the same name has another uid, and its predecessor's commands are history, not its own.
   */
  async latestFor(site: string, uid: string): Promise<ResourceOf<'Command'> | undefined> {
    const rows = await queryPrepared<RawRow[]>(
      this.db,
      `SELECT ${COLUMNS} FROM resources WHERE kind = 'Command' AND spec ->> 'site' = $1
          AND (labels ->> '${COMMAND_SITE_UID_LABEL}' = $2 OR NOT labels ? '${COMMAND_SITE_UID_LABEL}')
        ORDER BY (spec ->> 'fence')::bigint DESC LIMIT 1`,
      [site, uid],
    );
    return rows[0] && fromRawOfKind<'Command'>(rows[0]);
  }

  /** Each site name's newest command (highest fence), for the engine's informer cache. */
  async latestPerSite(): Promise<Array<ResourceOf<'Command'>>> {
    const rows = await this.db.query<RawRow[]>(
      `SELECT DISTINCT ON (spec ->> 'site') ${COLUMNS} FROM resources WHERE kind = 'Command' ORDER BY spec ->> 'site', (spec ->> 'fence')::bigint DESC`,
    );
    return rows.map((row) => fromRawOfKind<'Command'>(row));
  }

  /** Commands on the bus that have not finished: the ones that can stall. */
  async dispatched(): Promise<Array<ResourceOf<'Command'>>> {
    const rows = await this.db.query<RawRow[]>(
      `SELECT ${COLUMNS} FROM resources WHERE kind = 'Command' AND status ->> 'state' IN ('DISPATCHED', 'RUNNING')`,
    );
    return rows.map((row) => fromRawOfKind<'Command'>(row));
  }

  /** The sites bound to a node, deleting ones included (what the scheduler counts against a node's capacity). */
  async boundSites(): Promise<Array<ResourceOf<'Site'>>> {
    const rows = await this.db.query<RawRow[]>(`SELECT ${COLUMNS} FROM resources WHERE kind = 'Site' AND status ->> 'nodeName' IS NOT NULL`);
    return rows.map((row) => fromRawOfKind<'Site'>(row));
  }
}

/** The highest fence any command of a site name has had, across its incarnations (0: none), in the caller's transaction. */
export async function highestFenceOfName(manager: EntityManager, site: string): Promise<number> {
  const [row] = await queryPrepared<Array<{ fence: string }>>(
    manager,
    `SELECT coalesce(max((spec ->> 'fence')::bigint), 0)::text AS fence FROM resources WHERE kind = 'Command' AND spec ->> 'site' = $1`,
    [site],
  );
  return Number(row?.fence ?? 0);
}
