import { z } from 'zod';
import { nameSchema, printableTextSchema, reasonSchema, timestampSchema } from './field-schemas.js';
import { KIND_NAMES, type KindName } from './kinds.js';

export const EVENT_TYPES = ['Normal', 'Warning'] as const;
export const UID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uidSchema = z.string().regex(UID_PATTERN, 'must be a lower-case UUID');

/** Kubernetes-style event; the API stores it as the `spec` of an Event resource. */
export const eventBodySchema = z
  .strictObject({
    type: z.enum(EVENT_TYPES),
    reason: reasonSchema,
    message: printableTextSchema(1024),
    involvedObject: z.strictObject({
      kind: z.enum(KIND_NAMES as [KindName, ...KindName[]]),
      name: nameSchema,
      uid: uidSchema.optional(),
    }),
    count: z.int().min(1).default(1),
    firstTimestamp: timestampSchema,
    lastTimestamp: timestampSchema,
  })
  .superRefine((event, ctx) => {
    // Same format (UTC, Z) on both sides, so string order is time order.
    if (Date.parse(event.lastTimestamp) < Date.parse(event.firstTimestamp)) {
      ctx.addIssue({ code: 'custom', path: ['lastTimestamp'], message: 'must not be before firstTimestamp' });
    }
  });

/** Events have no status; an empty object keeps the envelope uniform. */
export const eventStatusSchema = z.strictObject({});

export type EventBody = z.infer<typeof eventBodySchema>;
