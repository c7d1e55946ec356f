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
  const existing = await tx.get('Event', name, { lock: true });
  if (existing) {
    const body = existing.spec as EventBody;
    const spec: EventBody = { ...body, count: body.count + 1, lastTimestamp: at };
    return tx.update(existing, { ...writeOf(existing), spec }, now);
  }
  const spec: EventBody = {
    type,
    reason,
    message,
    involvedObject: { kind: involved.kind, name: involved.metadata.name, uid: involved.metadata.uid },
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
  };
  const created = await tx.create(
    { kind: 'Event', name, labels: {}, annotations: {}, finalizers: [], spec, status: {}, generation: 1 },
    now,
  );
  if (!created) throw new Error(`event ${name} appeared concurrently`);
  return created;
}
