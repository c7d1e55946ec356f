import { z } from 'zod';
import { backupSnapshotsSchema, backupStatusSchema } from './backup.js';
import { nameSchema, printableTextSchema, timestampSchema } from './field-schemas.js';
import { installedCertificateSchema } from './site.js';

/** Labels on every Command: the site's name and uid (a site created again under a deleted one's name is another incarnation). */
export const COMMAND_SITE_LABEL = 'pressluft.io/site';
export const COMMAND_SITE_UID_LABEL = 'pressluft.io/site-uid';

export const COMMAND_OPERATIONS = [
  'ProvisionSite',
  'DeleteSite',
  'DeploySite',
  'RollbackSite',
  'CloneSite',
  'BackupSite',
  'RestoreSite',
  'RotateCredentials',
  'CheckDrift',
  'RemediateDrift',
  'IssueCertificate',
] as const;
export type CommandOperation = (typeof COMMAND_OPERATIONS)[number];

export const COMMAND_STATES = ['PENDING', 'DISPATCHED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'REJECTED', 'STALLED'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

/** States after which a command never changes again. */
export const TERMINAL_COMMAND_STATES: readonly CommandState[] = ['SUCCEEDED', 'FAILED', 'REJECTED'];

export const commandSpecSchema = z.strictObject({
  site: nameSchema,
  node: nameSchema,
  fence: z.int().min(1),
  operation: z.enum(COMMAND_OPERATIONS),
  /** The Site's metadata.generation the command converges to. */
  generation: z.int().min(1),
  /** BackupSite: the Backup it runs; RestoreSite: the Backup it restores. */
  backup: nameSchema.optional(),
  /** RestoreSite: the Restore it carries out. */
  restore: nameSchema.optional(),
  /** BackupSite, RestoreSite: the BackupStore; the node may fetch its credentials (gRPC, mutual TLS) only while this command is in flight. */
  store: nameSchema.optional(),
  /**
   * IssueCertificate: acme (an ACME order on the node), custom (the spec's chain with the key from
   * spec.credentials, fetched over gRPC while the command is in flight) or remove (HTTP only).
   */
  certificate: z.enum(['acme', 'custom', 'remove']).optional(),
});

export const CERTIFICATE_ACTIONS = ['acme', 'custom', 'remove'] as const;
export type CertificateAction = (typeof CERTIFICATE_ACTIONS)[number];

/** What a successful BackupSite reported (copied into the Backup's status by its reconciler). */
export const backupResultSchema = z.strictObject({
  snapshots: backupSnapshotsSchema,
  snapshotTime: timestampSchema.optional(),
  bytesAdded: z.int().min(0),
  bytesTotal: z.int().min(0),
  files: z.int().min(0),
  durationSeconds: z.number().min(0),
  wordpressVersion: backupStatusSchema.shape.wordpressVersion,
  release: backupStatusSchema.shape.release,
  gitCommit: backupStatusSchema.shape.gitCommit,
});
export type BackupResult = z.infer<typeof backupResultSchema>;

export const commandStatusSchema = z.strictObject({
  state: z.enum(COMMAND_STATES).default('PENDING'),
  /** Progress lines streamed by the agent, oldest first. */
  log: z.array(printableTextSchema(4096)).max(10_000).default([]),
  message: printableTextSchema(4096).optional(),
  /** CamelCase reason of a failure or rejection, as the agent reported it. */
  reason: z.string().regex(/^[A-Z][A-Za-z0-9]{0,127}$/).optional(),
  /** Highest event sequence ingested for this command. */
  lastSequence: z.int().min(0).default(0),
  lastHeartbeat: timestampSchema.optional(),
  dispatchedAt: timestampSchema.optional(),
  startedAt: timestampSchema.optional(),
  finishedAt: timestampSchema.optional(),
  /** The newest progress event (step, percent, and for backups and restores bytes and files so far). */
  progress: backupStatusSchema.shape.progress,
  /** BackupSite: what it stored. */
  backup: backupResultSchema.optional(),
  /** IssueCertificate (acme, custom): the certificate now installed on the node. */
  certificate: installedCertificateSchema.optional(),
  /** A failure the agent says not to retry before this many seconds (an ACME rate limit's Retry-After). */
  retryAfterSeconds: z.int().min(0).max(30 * 24 * 3600).optional(),
});

export type CommandSpec = z.infer<typeof commandSpecSchema>;
export type CommandStatus = z.infer<typeof commandStatusSchema>;

/**
 * The status once the command is on the bus (JetStream acknowledged it): PENDING becomes
 * DISPATCHED, stamped with when. Any other state is left alone (the agent may already have
 * answered); the same object then, so the caller writes nothing.
 */
export function dispatchedCommandStatus(status: CommandStatus, at: string): CommandStatus {
  return status.state === 'PENDING' ? { ...status, state: 'DISPATCHED', dispatchedAt: at } : status;
}
