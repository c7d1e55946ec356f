import { GROUP_VERSION } from './api-group.js';
import type { EventBody } from './event.js';
import type { Resource } from './resource.js';

/** The fields kubectl's event searches select on (kubectl describe asks for all four). */
const SELECTABLE = ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid'] as const;
export type CoreEventField = (typeof SELECTABLE)[number];
export type CoreEventSelector = Partial<Record<CoreEventField, string>>;

/** Who reports our events, as core/v1 Events name their source. */
export const EVENT_SOURCE = 'pressluft-control-plane';

const isSelectable = (field: string): field is CoreEventField => (SELECTABLE as readonly string[]).includes(field);

/**
 * A core/v1 events field selector (`involvedObject.name=shop,involvedObject.kind=Site,...`):
 * equality on the involvedObject fields only. Escaped values (`\,`) are refused: no name, kind or
 * uid of ours holds one.
 */
export function parseCoreEventSelector(value: string): { ok: true; selector: CoreEventSelector } | { ok: false; error: string } {
  const selector: CoreEventSelector = {};
  for (const term of value.split(',').filter(Boolean)) {
    const match = /^([a-zA-Z.]+)==?([^=!\\]*)$/.exec(term);
    const field = match?.[1];
    if (!match || field === undefined || !isSelectable(field)) {
      return { ok: false, error: `only equality on ${SELECTABLE.join(', ')} is supported` };
    }
    selector[field] = match[2] ?? '';
  }
  return { ok: true, selector };
}

/** Our events involve cluster-scoped objects: their namespace is always empty; an event recorded without a uid has an empty one. */
export function coreEventMatches(selector: CoreEventSelector, event: Resource<EventBody>): boolean {
  const involved = event.spec.involvedObject;
  const fields: Record<CoreEventField, string> = {
    'involvedObject.kind': involved.kind,
    'involvedObject.name': involved.name,
    'involvedObject.namespace': '',
    'involvedObject.uid': involved.uid ?? '',
  };
  return Object.entries(selector).every(([field, wanted]) => fields[field as CoreEventField] === wanted);
}

/** One of our Events as a core/v1 Event (what kubectl describe prints under "Events:"). */
export function toCoreEvent(event: Resource<EventBody>): Record<string, unknown> {
  const { metadata, spec } = event;
  const { kind, name, uid } = spec.involvedObject;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: metadata.name, uid: metadata.uid, resourceVersion: metadata.resourceVersion, creationTimestamp: metadata.creationTimestamp },
    involvedObject: { apiVersion: GROUP_VERSION, kind, name, ...(uid ? { uid } : {}) },
    type: spec.type,
    reason: spec.reason,
    message: spec.message,
    count: spec.count,
    firstTimestamp: spec.firstTimestamp,
    lastTimestamp: spec.lastTimestamp,
    source: { component: EVENT_SOURCE },
    reportingComponent: EVENT_SOURCE,
  };
}
