import type { KindName, Resource, ResourceOf } from '@pressluft/domain';
import { ResourceRow } from '../persistence/entities.js';

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

/** The resources table's columns, in the order every raw read selects them. */
export const COLUMNS = `kind, name, uid, generation, resource_version, labels, annotations, finalizers, spec, status, creation_timestamp, deletion_timestamp`;

export interface RawRow {
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
export function ofKind<K extends KindName>(object: Resource): ResourceOf<K> {
  return object as ResourceOf<K>;
}

export function fromRaw(raw: RawRow): Resource {
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

/** A raw row of kind K (the query selected that kind) as K's type. */
export function fromRawOfKind<K extends KindName>(raw: RawRow): ResourceOf<K> {
  return ofKind<K>(fromRaw(raw));
}
