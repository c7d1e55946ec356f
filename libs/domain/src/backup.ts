import { z } from 'zod';
import { conditionsSchema, nameSchema, plainTextSchema, timestampSchema } from './field-schemas.js';

/** Backup and Restore are one run each (like VolumeSnapshot): spec says what, status how it went. */
export const RUN_PHASES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

export const SNAPSHOT_ID_PATTERN = /^[0-9a-f]{8,64}$/;

export const backupSpecSchema = z.strictObject({
  site: nameSchema,
  note: plainTextSchema(200).optional(),
});

export const restoreSpecSchema = z.strictObject({
  site: nameSchema,
  backup: nameSchema,
});

const runStatusShape = {
  phase: z.enum(RUN_PHASES).default('PENDING'),
  observedGeneration: z.int().min(0).default(0),
  conditions: conditionsSchema.default([]),
  startedAt: timestampSchema.optional(),
  completedAt: timestampSchema.optional(),
};

export const backupStatusSchema = z.strictObject({
  ...runStatusShape,
  /** The restic snapshot the run produced. */
  snapshotId: z.string().regex(SNAPSHOT_ID_PATTERN, 'must be a restic snapshot id (hex)').optional(),
  sizeBytes: z.int().min(0).optional(),
});

export const restoreStatusSchema = z.strictObject(runStatusShape);

export type BackupSpec = z.infer<typeof backupSpecSchema>;
export type BackupStatus = z.infer<typeof backupStatusSchema>;
export type RestoreSpec = z.infer<typeof restoreSpecSchema>;
export type RestoreStatus = z.infer<typeof restoreStatusSchema>;
