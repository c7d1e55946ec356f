import { z } from 'zod';

/*
 * The few meta.k8s.io/v1 shapes our API speaks (errors, lists, watch events, delete options).
 * They describe what the server writes, so they are loose objects like Kubernetes' own.
 */

export const listMetaSchema = z.object({
  resourceVersion: z.string().optional(),
  continue: z.string().optional(),
  remainingItemCount: z.int().min(0).optional(),
});

export const statusCauseSchema = z.object({
  reason: z.string().optional(),
  message: z.string().optional(),
  field: z.string().optional(),
});

export const statusDetailsSchema = z.object({
  name: z.string().optional(),
  group: z.string().optional(),
  kind: z.string().optional(),
  uid: z.string().optional(),
  causes: z.array(statusCauseSchema).optional(),
  retryAfterSeconds: z.int().min(0).optional(),
});

export const STATUS_REASONS = [
  'Invalid',
  'Conflict',
  'NotFound',
  'AlreadyExists',
  'Unauthorized',
  'Forbidden',
  'RequestEntityTooLarge',
  'UnsupportedMediaType',
  'BadRequest',
  'MethodNotAllowed',
  'NotAcceptable',
  'InternalError',
  'ServiceUnavailable',
  'Timeout',
  'Expired',
  'Gone',
] as const;

/** The Kubernetes Status object every error answers with. */
export const k8sStatusSchema = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Status').optional(),
  metadata: listMetaSchema.optional(),
  status: z.enum(['Success', 'Failure']).optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  details: statusDetailsSchema.optional(),
  code: z.int().optional(),
});

export const deleteOptionsSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  dryRun: z.array(z.literal('All')).optional(),
  gracePeriodSeconds: z.int().min(0).optional(),
  propagationPolicy: z.enum(['Orphan', 'Background', 'Foreground']).optional(),
  preconditions: z.object({ uid: z.string().optional(), resourceVersion: z.string().optional() }).optional(),
});

export const WATCH_EVENT_TYPES = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'] as const;

export const watchEventSchema = z.object({
  type: z.enum(WATCH_EVENT_TYPES),
  object: z.record(z.string(), z.unknown()),
});

export type ListMeta = z.infer<typeof listMetaSchema>;
export type StatusCause = z.infer<typeof statusCauseSchema>;
export type StatusDetails = z.infer<typeof statusDetailsSchema>;
export type K8sStatus = z.infer<typeof k8sStatusSchema>;
export type DeleteOptions = z.infer<typeof deleteOptionsSchema>;
export type WatchEventType = (typeof WATCH_EVENT_TYPES)[number];
export type WatchEvent = z.infer<typeof watchEventSchema>;
