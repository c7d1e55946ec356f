import { z } from 'zod';
import { BACKUP_REASONS } from './backup-retention.js';
import { conditionsSchema, domainSchema, duplicates, nameSchema, plainTextSchema, printableTextSchema, timestampSchema } from './field-schemas.js';
import { releaseIdSchema } from './site.js';
import { uidSchema } from './event.js';

/** Backup and Restore are one run each (like VolumeSnapshot): spec says what, status how it went. */
export const RUN_PHASES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

export const SNAPSHOT_ID_PATTERN = /^[0-9a-f]{8,64}$/;
const snapshotIdSchema = z.string().regex(SNAPSHOT_ID_PATTERN, 'must be a restic snapshot id (hex)');

/** The store a Site without spec.backup.store uses (`tools/dev up` creates it under .pressluft/). */
export const DEFAULT_BACKUP_STORE = 'local';

/** Labels on a Backup the control plane made: the site it is of (by name and uid), and the Restore that asked for it. */
export const BACKUP_SITE_LABEL = 'pressluft.io/site';
export const BACKUP_SITE_UID_LABEL = 'pressluft.io/site-uid';
export const BACKUP_FOR_RESTORE_LABEL = 'pressluft.io/restore';
/** On the Backup of a clone's source: the clone (Site) it is made for. */
export const CLONE_FOR_LABEL = 'pressluft.io/clone-for';

export const backupSpecSchema = z.strictObject({
  site: nameSchema,
  /** Why the backup was taken (manual, or made by the control plane: scheduled, pre-delete, ...). */
  reason: z.enum(BACKUP_REASONS).default('manual'),
  /** Exempt from retention: kept until the Backup is deleted by hand. */
  retain: z.boolean().default(false),
  /** The BackupStore; default: the site's spec.backup.store, else `local`. Set by the control plane when the run starts. */
  store: nameSchema.optional(),
  note: plainTextSchema(200).optional(),
});

/** The restic snapshots of one backup run (one per part: restic 0.14 takes one stdin stream per snapshot). */
export const backupSnapshotsSchema = z.strictObject({
  database: snapshotIdSchema.optional(),
  files: snapshotIdSchema.optional(),
  manifest: snapshotIdSchema.optional(),
});

export const runStatusShape = {
  phase: z.enum(RUN_PHASES).default('PENDING'),
  observedGeneration: z.int().min(0).default(0),
  conditions: conditionsSchema.default([]),
  startedAt: timestampSchema.optional(),
  completedAt: timestampSchema.optional(),
  /** The command that ran it (`<site>-<fence>`): its log has the progress lines. */
  command: nameSchema.optional(),
  /** Short, for people: what is happening or why it failed. */
  message: printableTextSchema(1024).optional(),
};

export const backupStatusSchema = z.strictObject({
  ...runStatusShape,
  store: nameSchema.optional(),
  /** The site's uid and id (`site_<id>` on the node) when it was taken: a deleted site's backups stay restorable. */
  siteUid: uidSchema.optional(),
  siteId: z.string().regex(/^[0-9a-z]{8}$/).optional(),
  snapshots: backupSnapshotsSchema.optional(),
  /** When restic took the snapshots (the retention rules' time). */
  snapshotTime: timestampSchema.optional(),
  bytesAdded: z.int().min(0).optional(),
  bytesTotal: z.int().min(0).optional(),
  files: z.int().min(0).optional(),
  durationSeconds: z.number().min(0).optional(),
  wordpressVersion: z.string().regex(/^[0-9][0-9a-z.-]{0,31}$/).optional(),
  release: releaseIdSchema.optional(),
  gitCommit: z.string().regex(/^[0-9a-f]{7,64}$/).optional(),
  /** Progress while RUNNING (from the command's progress events). */
  progress: z.strictObject({ step: z.string().regex(/^[a-z][a-z-]{0,63}$/), percent: z.int().min(0).max(100), bytes: z.int().min(0).optional(), files: z.int().min(0).optional() }).optional(),
  /** The site's spec when it was taken (JSON): what a Restore of a deleted site creates it from. */
  siteSpec: z.record(z.string(), z.unknown()).optional(),
});

/** The parts of a backup a restore can put back (a ContentSync moves database and uploads only). */
export const RESTORE_PARTS = ['code', 'database', 'uploads'] as const;
export type RestorePart = (typeof RESTORE_PARTS)[number];

export const restoreSpecSchema = z.strictObject({
  backup: nameSchema,
  /**
   * The target site; default the backup's site. A name with no Site behind it restores a deleted
   * site (or makes a copy): the site is created from the backup's site spec first.
   */
  site: nameSchema.optional(),
  /** Domains of a site the restore creates (a copy beside the original needs its own); default the backup's. */
  domains: z.array(domainSchema).min(1).max(100).optional(),
  /** Skips the mandatory pre-restore backup of an existing target (the audit log records who asked). */
  skipPreRestoreBackup: z.boolean().default(false),
  /** What is restored (default all): code (the release's files), database, uploads. */
  parts: z
    .array(z.enum(RESTORE_PARTS))
    .min(1)
    .max(3)
    .superRefine((parts, ctx) => duplicates(parts, ctx, 'duplicate part'))
    .optional(),
});

export const restoreStatusSchema = z.strictObject({
  ...runStatusShape,
  /** The site restored into (spec.site or the backup's site). */
  site: nameSchema.optional(),
  /** The pre-restore Backup taken first. */
  preRestoreBackup: nameSchema.optional(),
  /** The restore created the target site (a deleted site restored, or a copy). */
  createdSite: z.boolean().optional(),
  /** The release serving after the switch. */
  release: releaseIdSchema.optional(),
});

/**
 * Where backups go: a restic repository. Local path (on the node running restic), `sftp:` (a
 * Hetzner Storage Box in production) or `rest:` (a REST server; `rclone serve restic`).
 */
export const BACKUP_REPOSITORY_PATTERN =
  /^(\/[A-Za-z0-9._/-]{1,400}|sftp:[A-Za-z0-9._-]{1,64}@[A-Za-z0-9.-]{1,253}:(\/)?[A-Za-z0-9._/-]{0,400}|rest:https?:\/\/[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(\/[A-Za-z0-9._/-]{0,400})?)$/;

/**
 * Write-only: accepted on create and update, never stored in the object, never returned, logged
 * or sent in an event; encrypted at rest and handed to an agent only over its mutual-TLS gRPC
 * channel. Omitting the whole object on an update keeps the stored credentials.
 */
export const backupStoreCredentialsSchema = z.strictObject({
  /** restic's repository password (RESTIC_PASSWORD). */
  password: printableTextSchema(1024).min(8),
  /** sftp: the private key (OpenSSH PEM) for the Storage Box. */
  sshPrivateKey: printableTextSchema(16 * 1024).optional(),
  /** sftp: known_hosts lines for the server (not secret, but kept with the key). */
  sshKnownHosts: printableTextSchema(16 * 1024).optional(),
  /** rest: HTTP basic auth. */
  restUsername: z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/).optional(),
  restPassword: printableTextSchema(1024).optional(),
});

export const backupStoreSpecSchema = z.strictObject({
  repository: z
    .string()
    .max(512)
    .regex(BACKUP_REPOSITORY_PATTERN, 'must be a restic repository: an absolute path, sftp:user@host:/path or rest:https://host:port/path (no credentials in the URL)')
    .refine((value) => !value.split('/').includes('..'), 'must not contain ".."'),
  credentials: backupStoreCredentialsSchema.optional(),
});

export const backupStoreStatusSchema = z.strictObject({
  conditions: conditionsSchema.default([]),
  /** Whether credentials are stored, and when they last changed (never the credentials). */
  credentials: z.strictObject({ set: z.boolean(), updatedAt: timestampSchema.optional(), version: z.int().min(0).default(0) }).optional(),
});

export type BackupSpec = z.infer<typeof backupSpecSchema>;
export type BackupStatus = z.infer<typeof backupStatusSchema>;
export type BackupSnapshots = z.infer<typeof backupSnapshotsSchema>;
export type RestoreSpec = z.infer<typeof restoreSpecSchema>;
export type RestoreStatus = z.infer<typeof restoreStatusSchema>;
export type BackupStoreSpec = z.infer<typeof backupStoreSpecSchema>;
export type BackupStoreStatus = z.infer<typeof backupStoreStatusSchema>;
export type BackupStoreCredentials = z.infer<typeof backupStoreCredentialsSchema>;
