import { z } from 'zod';
import { type GROUP_VERSION } from './api-group.js';
import { backupSpecSchema, backupStatusSchema, backupStoreSpecSchema, backupStoreStatusSchema, restoreSpecSchema, restoreStatusSchema } from './backup.js';
import { commandSpecSchema, commandStatusSchema } from './command.js';
import { contentSyncSpecSchema, contentSyncStatusSchema, promotionSpecSchema, promotionStatusSchema } from './environments.js';
import { eventBodySchema, eventStatusSchema, uidSchema } from './event.js';
import {
  annotationsSchema,
  finalizersSchema,
  labelsSchema,
  nameSchema,
  resourceVersionSchema,
  timestampSchema,
} from './field-schemas.js';
import { type KindName } from './kinds.js';
import { nodeSpecSchema, nodeStatusSchema } from './node.js';
import { siteSpecSchema, siteStatusSchema } from './site.js';

/** Metadata as the server returns it (and as the OpenAPI document publishes it). */
export const objectMetaSchema = z.object({
  name: nameSchema,
  uid: uidSchema,
  generation: z.int().min(1),
  resourceVersion: resourceVersionSchema,
  labels: labelsSchema.default({}),
  annotations: annotationsSchema.default({}),
  finalizers: finalizersSchema.default([]),
  creationTimestamp: timestampSchema,
  deletionTimestamp: timestampSchema.optional(),
});

export type ObjectMeta = z.infer<typeof objectMetaSchema>;

/** The part of metadata a client may write; the server sets the rest. */
export const metadataInputSchema = z.strictObject({
  name: nameSchema,
  labels: labelsSchema.default({}),
  annotations: annotationsSchema.default({}),
  finalizers: finalizersSchema.optional(),
  resourceVersion: resourceVersionSchema.optional(),
  uid: uidSchema.optional(),
});

/**
 * Members of metadata the server owns: accepted and ignored, because kubectl sends them back on
 * replace. (uid is a precondition instead: see ManifestInput.uid.)
 */
export const SERVER_SET_METADATA = [
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
] as const;

export const SPEC_SCHEMAS = {
  Node: nodeSpecSchema,
  Site: siteSpecSchema,
  BackupStore: backupStoreSpecSchema,
  Backup: backupSpecSchema,
  Restore: restoreSpecSchema,
  ContentSync: contentSyncSpecSchema,
  Promotion: promotionSpecSchema,
  Event: eventBodySchema,
  Command: commandSpecSchema,
} as const satisfies Record<KindName, z.ZodType>;

export const STATUS_SCHEMAS = {
  Node: nodeStatusSchema,
  Site: siteStatusSchema,
  BackupStore: backupStoreStatusSchema,
  Backup: backupStatusSchema,
  Restore: restoreStatusSchema,
  ContentSync: contentSyncStatusSchema,
  Promotion: promotionStatusSchema,
  Event: eventStatusSchema,
  Command: commandStatusSchema,
} as const satisfies Record<KindName, z.ZodType>;

export type SpecByKind = { [K in KindName]: z.infer<(typeof SPEC_SCHEMAS)[K]> };
export type StatusByKind = { [K in KindName]: z.infer<(typeof STATUS_SCHEMAS)[K]> };

export interface Resource<Spec = unknown, Status = unknown> {
  apiVersion: typeof GROUP_VERSION;
  kind: KindName;
  metadata: ObjectMeta;
  spec: Spec;
  status: Status;
}

/** A resource of one kind, typed by the kind's schemas. */
export type ResourceOf<K extends KindName> = Resource<SpecByKind[K], StatusByKind[K]> & { kind: K };

/** Narrows an object to its kind's type: objects are validated against their kind's schemas when written. */
export function isKind<K extends KindName>(object: Resource, kind: K): object is ResourceOf<K> {
  return object.kind === kind;
}
