import { z } from 'zod';
import { utf8Length } from './json.js';
import {
  LABEL_VALUE_MESSAGE,
  LABEL_VALUE_PATTERN,
  QUALIFIED_NAME_MESSAGE,
  QUALIFIED_NAME_PATTERN,
  validateQualifiedName,
} from './labels.js';
import { DOMAIN_MESSAGE, DOMAIN_PATTERN, NAME_MESSAGE, NAME_PATTERN } from './names.js';

/*
 * Field-level building blocks shared by every kind. Each string has a pattern or an enum, so
 * shell metacharacters and path traversal never get past the API (the agent still uses argv).
 */

export const nameSchema = z.string().regex(NAME_PATTERN, NAME_MESSAGE);

export const domainSchema = z.string().max(253).regex(DOMAIN_PATTERN, DOMAIN_MESSAGE);

export const timestampSchema = z.iso.datetime({
  error: 'must be an RFC 3339 timestamp in UTC, like 2026-01-01T00:00:00Z',
});

/** CamelCase reasons, as in Kubernetes conditions and events. */
export const REASON_PATTERN = /^[A-Z][A-Za-z0-9]{0,127}$/;
export const reasonSchema = z.string().regex(REASON_PATTERN, 'must be CamelCase: a capital letter, then letters and digits (at most 128)');

/** Free text the control plane writes (messages): printable characters, tab and newlines. */
export const PRINTABLE_TEXT_PATTERN = /^(?:[^\p{Cc}]|[\t\n\r])*$/u;
export const printableTextSchema = (max: number) =>
  z.string().max(max).regex(PRINTABLE_TEXT_PATTERN, 'must contain only printable characters');

/** Text a user types (titles, notes): letters, digits, space and . , : ! ? ' - only. */
export const PLAIN_TEXT_PATTERN = /^[\p{L}\p{N}][\p{L}\p{M}\p{N} .,:!?'-]*$/u;
export const plainTextSchema = (max: number) =>
  z
    .string()
    .max(max)
    .regex(PLAIN_TEXT_PATTERN, "must start with a letter or digit and contain only letters, digits, spaces and . , : ! ? ' -");

export const qualifiedNameSchema = z
  .string()
  .max(317)
  .regex(QUALIFIED_NAME_PATTERN, QUALIFIED_NAME_MESSAGE)
  .superRefine((value, ctx) => {
    // The pattern already spoke for malformed keys; this adds the length rules of each part.
    if (!QUALIFIED_NAME_PATTERN.test(value)) return;
    const problem = validateQualifiedName(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const labelValueSchema = z.string().max(63).regex(LABEL_VALUE_PATTERN, LABEL_VALUE_MESSAGE);

export const labelsSchema = z.record(qualifiedNameSchema, labelValueSchema);

/** Kubernetes' limit on all annotations of one object together (keys and values, in bytes). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export const annotationsSchema = z.record(qualifiedNameSchema, z.string()).superRefine((annotations, ctx) => {
  let total = 0;
  for (const [key, value] of Object.entries(annotations)) total += utf8Length(key) + utf8Length(value);
  if (total > MAX_ANNOTATIONS_BYTES) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_ANNOTATIONS_BYTES} bytes in total (keys and values), got ${total}` });
  }
});

export const finalizersSchema = z
  .array(qualifiedNameSchema)
  .max(32)
  .superRefine((finalizers, ctx) => duplicates(finalizers, ctx, 'duplicate finalizer'));

export const RESOURCE_VERSION_PATTERN = /^[0-9]{1,20}$/;
export const resourceVersionSchema = z.string().regex(RESOURCE_VERSION_PATTERN, 'must be a string of digits as returned by the server');

export const conditionSchema = z.strictObject({
  type: z.string().regex(/^[A-Z][A-Za-z0-9]{0,63}$/, 'must be CamelCase: a capital letter, then letters and digits (at most 64)'),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: reasonSchema,
  message: printableTextSchema(32768),
  lastTransitionTime: timestampSchema,
});

export const conditionsSchema = z
  .array(conditionSchema)
  .max(32)
  .superRefine((conditions, ctx) => duplicates(conditions.map((c) => c.type), ctx, 'duplicate condition type', 'type'));

/** Reports every repeated entry at its own index (the first occurrence is the valid one). */
export function duplicates(values: readonly unknown[], ctx: z.core.$RefinementCtx, message: string, member?: string): void {
  const seen = new Set<unknown>();
  values.forEach((value, index) => {
    if (seen.has(value)) ctx.addIssue({ code: 'custom', message, path: member ? [index, member] : [index] });
    seen.add(value);
  });
}
