import { isKind, type Resource } from './resource.js';

/**
 * Where an object stands in a served list (and what a continue token resumes after): events by
 * when they last happened, oldest first and newest last as kubectl lists events, then by name;
 * every other kind by name.
 */
export function listOrderKey(object: Resource): string {
  if (!isKind(object, 'Event')) return object.metadata.name;
  // Timestamps may differ in precision and offset: one normalised form sorts as time does.
  return `${new Date(Date.parse(object.spec.lastTimestamp)).toISOString()} ${object.metadata.name}`;
}

export function inListOrder<T extends Resource>(items: readonly T[]): T[] {
  return items
    .map((item) => ({ key: listOrderKey(item), item }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ item }) => item);
}

/**
 * Objects as served: a Node's status.sites is the number of sites bound to it (their
 * status.nodeName), counted when it is read, never stored (`sitesPerNode`: node name -> count).
 */
export function withSiteCounts<T extends Resource>(objects: readonly T[], sitesPerNode: ReadonlyMap<string, number>): T[] {
  return objects.map((object) =>
    isKind(object, 'Node') ? { ...object, status: { ...object.status, sites: sitesPerNode.get(object.metadata.name) ?? 0 } } : object,
  );
}
