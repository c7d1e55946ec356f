import { findCondition, type Condition } from './conditions.js';
import { humanAge } from './human-age.js';
import { isPlainObject, type JsonObject } from './json.js';
import { kindByName, type KindName } from './kinds.js';
import { type Resource } from './resource.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** What kubectl prints for an empty cell. */
export const NONE = '<none>';

export function tableColumnDefinitions(kind: KindName): TableColumnDefinition[] {
  const info = kindByName(kind);
  if (!info) return [];
  // A 'date' column's cell carries the age already rendered ("5m"), as Kubernetes' own printers do.
  return info.printerColumns.map((c) => ({
    name: c.name,
    type: c.type,
    format: c.name === 'NAME' ? 'name' : '',
    description: c.description,
    priority: c.priority,
  }));
}

type Cell = (resource: Resource, now: Date) => unknown;

const obj = (value: unknown): JsonObject => (isPlainObject(value) ? value : {});
const text = (value: unknown): string => (typeof value === 'string' && value !== '' ? value : NONE);
const age = (timestamp: unknown, now: Date): string => (typeof timestamp === 'string' ? humanAge(new Date(timestamp), now) : NONE);

const name: Cell = (r) => r.metadata.name;
/** 1536 -> 1.5Ki, as kubectl shows quantities. */
export function humanBytes(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes}` : `${value >= 10 ? Math.round(value) : Math.round(value * 10) / 10}${units[unit]}`;
}
const created: Cell = (r, now) => age(r.metadata.creationTimestamp, now);
const spec = (r: Resource, key: string) => obj(r.spec)[key];
const status = (r: Resource, key: string) => obj(r.status)[key];

const CELLS: Record<KindName, Record<string, Cell>> = {
  Node: {
    NAME: name,
    PHASE: (r) => text(status(r, 'phase')),
    LOAD: (r) => {
      const load = status(r, 'load');
      return typeof load === 'number' ? load : NONE;
    },
    // A node does not know its sites; the control plane counts them into status.sites.
    SITES: (r) => {
      const sites = status(r, 'sites');
      return typeof sites === 'number' ? sites : 0;
    },
    AGE: created,
    PROVIDER: (r) => text(spec(r, 'provider')),
    AGENT: (r) => text(status(r, 'agentVersion')),
  },
  Site: {
    NAME: name,
    PHASE: (r) => text(status(r, 'phase')),
    NODE: (r) => text(status(r, 'nodeName') ?? spec(r, 'nodeName')),
    DOMAINS: (r) => {
      const domains = spec(r, 'domains');
      return Array.isArray(domains) && domains.length > 0 ? domains.join(',') : NONE;
    },
    READY: (r) => {
      const conditions = status(r, 'conditions');
      return Array.isArray(conditions) ? (findCondition(conditions as Condition[], 'Ready')?.status ?? 'Unknown') : 'Unknown';
    },
    AGE: created,
    ENVIRONMENT: (r) => text(spec(r, 'environment')),
    RELEASE: (r) => text(status(r, 'currentRelease')),
  },
  BackupStore: {
    NAME: name,
    REPOSITORY: (r) => text(spec(r, 'repository')),
    CREDENTIALS: (r) => (obj(status(r, 'credentials'))['set'] === true ? 'set' : 'missing'),
    AGE: created,
  },
  Backup: {
    NAME: name,
    SITE: (r) => text(spec(r, 'site')),
    REASON: (r) => text(spec(r, 'reason')),
    PHASE: (r) => text(status(r, 'phase')),
    SIZE: (r) => {
      const bytes = status(r, 'bytesAdded');
      return typeof bytes === 'number' ? humanBytes(bytes) : NONE;
    },
    AGE: created,
    STORE: (r) => text(status(r, 'store') ?? spec(r, 'store')),
    RELEASE: (r) => text(status(r, 'release')),
  },
  Restore: {
    NAME: name,
    SITE: (r) => text(status(r, 'site') ?? spec(r, 'site')),
    BACKUP: (r) => text(spec(r, 'backup')),
    PHASE: (r) => text(status(r, 'phase')),
    AGE: created,
  },
  ContentSync: {
    NAME: name,
    FROM: (r) => text(spec(r, 'from')),
    TO: (r) => text(spec(r, 'to')),
    PARTS: (r) => {
      const parts = spec(r, 'parts');
      return Array.isArray(parts) && parts.length > 0 ? parts.join(',') : NONE;
    },
    PHASE: (r) => text(status(r, 'phase')),
    AGE: created,
  },
  Promotion: {
    NAME: name,
    FROM: (r) => text(spec(r, 'from')),
    TO: (r) => text(spec(r, 'to')),
    COMMIT: (r) => {
      const commit = status(r, 'commit');
      return typeof commit === 'string' && commit !== '' ? commit.slice(0, 12) : NONE;
    },
    PHASE: (r) => text(status(r, 'phase')),
    AGE: created,
  },
  Event: {
    'LAST SEEN': (r, now) => age(spec(r, 'lastTimestamp'), now),
    TYPE: (r) => text(spec(r, 'type')),
    REASON: (r) => text(spec(r, 'reason')),
    // kubectl's style: lower-case kind, slash, name.
    OBJECT: (r) => {
      const involved = obj(spec(r, 'involvedObject'));
      return typeof involved['kind'] === 'string' && typeof involved['name'] === 'string'
        ? `${involved['kind'].toLowerCase()}/${involved['name']}`
        : NONE;
    },
    MESSAGE: (r) => text(spec(r, 'message')),
    COUNT: (r) => {
      const count = spec(r, 'count');
      return typeof count === 'number' ? count : 1;
    },
    NAME: name,
  },
  Command: {
    NAME: name,
    SITE: (r) => text(spec(r, 'site')),
    NODE: (r) => text(spec(r, 'node')),
    OPERATION: (r) => text(spec(r, 'operation')),
    STATE: (r) => text(status(r, 'state')),
    FENCE: (r) => {
      const fence = spec(r, 'fence');
      return typeof fence === 'number' ? fence : NONE;
    },
    AGE: created,
  },
};

/** One Table row's cells, in the order of tableColumnDefinitions(resource.kind). */
export function tableCells(resource: Resource, now: Date): unknown[] {
  const info = kindByName(resource.kind);
  if (!info) return [];
  const cells = CELLS[resource.kind];
  return info.printerColumns.map((c) => cells[c.name]?.(resource, now) ?? NONE);
}

/** What a Table row carries besides its cells (Kubernetes' includeObject parameter). */
export type TableInclude = 'None' | 'Metadata' | 'Object';

/**
 * The wire form of a stored object. Events are stored with their body in `spec` but are served
 * like Kubernetes Events, with the body's fields at the top level.
 */
export function toWireObject(resource: Resource): Record<string, unknown> {
  if (resource.kind !== 'Event') return { ...resource };
  return { apiVersion: resource.apiVersion, kind: resource.kind, metadata: resource.metadata, ...(resource.spec as Record<string, unknown>) };
}

/**
 * A whole meta.k8s.io/v1 Table for a get, list or watch event (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).
 * Rows carry the object's metadata as PartialObjectMetadata by default, as kubectl expects.
 */
export function buildTable(
  kind: KindName,
  resources: readonly Resource[],
  now: Date,
  listMeta: Record<string, unknown> = {},
  include: TableInclude = 'Metadata',
): Record<string, unknown> {
  const object = (resource: Resource) =>
    include === 'Object' ? toWireObject(resource) : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: resource.metadata };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: tableColumnDefinitions(kind),
    rows: resources.map((resource) => ({ cells: tableCells(resource, now), ...(include === 'None' ? {} : { object: object(resource) }) })),
  };
}
