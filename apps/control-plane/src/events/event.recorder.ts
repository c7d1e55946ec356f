import { createHash } from 'node:crypto';
import type { EventBody, Resource } from '@pressluft/domain';
import { writeOf, type ResourceTransaction } from '../resources/resource.store.js';

export type EventType = 'Normal' | 'Warning';

/**
 * Kubernetes-style Events, written in the caller's transaction. The name is derived from the
 * object and the (type, reason, message), so a repeat of the same event finds its row and only
 * bumps count and lastTimestamp instead of piling up copies.
 */
export async function recordEvent(
  tx: ResourceTransaction,
  involved: Resource,
  type: EventType,
  reason: string,
  message: string,
  now: Date,
): Promise<Resource> {
  const digest = createHash('sha256').update(`${involved.metadata.uid}\0${type}\0${reason}\0${message}`).digest('hex').slice(0, 12);
  const name = `${involved.metadata.name}.${digest}`;
  const at = now.toISOString();
  const spec: EventBody = {
    type,
    reason,
    message,
    involvedObject: { kind: involved.kind, name: involved.metadata.name, uid: involved.metadata.uid },
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
  };
  // Most events are new (their message names a fence, a generation, a release): try the insert
  // first, one round trip; a repeat finds the name taken and counts up the existing one.
  const created = await tx.create({ kind: 'Event', name, labels: {}, annotations: {}, finalizers: [], spec, status: {}, generation: 1 }, now);
  if (created) return created;
  const existing = await tx.get('Event', name, { lock: true });
  if (!existing) throw new Error(`event ${name} exists and does not: it was deleted concurrently`);
  const body = existing.spec;
  return tx.update(existing, { ...writeOf(existing), spec: { ...body, count: body.count + 1, lastTimestamp: at } }, now);
}
