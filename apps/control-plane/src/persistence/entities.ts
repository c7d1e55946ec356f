import { Check, Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Every API resource (Node, Site, Event, Command, ...) in one table: the envelope in columns,
 * spec and status as jsonb. resource_version comes from one sequence across all kinds, so it
 * orders every change and a watch can resume from any value.
 */
@Entity('resources')
@Index('resources_kind_resource_version', ['kind', 'resourceVersion'])
@Index('resources_labels', { synchronize: false }) // GIN index, created by the migration
@Index('resources_command_site_fence', { synchronize: false }) // expression index for a site's newest command
export class ResourceRow {
  @PrimaryColumn({ type: 'text' })
  kind!: string;

  @PrimaryColumn({ type: 'text' })
  name!: string;

  @Column({ type: 'uuid', unique: true })
  uid!: string;

  @Column({ type: 'bigint' })
  generation!: string;

  @Column({ name: 'resource_version', type: 'bigint' })
  resourceVersion!: string;

  @Column({ type: 'jsonb' })
  labels!: Record<string, string>;

  @Column({ type: 'jsonb' })
  annotations!: Record<string, string>;

  @Column({ type: 'jsonb' })
  finalizers!: string[];

  @Column({ type: 'jsonb' })
  spec!: unknown;

  @Column({ type: 'jsonb' })
  status!: Record<string, unknown>;

  @Column({ name: 'creation_timestamp', type: 'timestamptz' })
  creationTimestamp!: Date;

  @Column({ name: 'deletion_timestamp', type: 'timestamptz', nullable: true })
  deletionTimestamp!: Date | null;
}

/** The change log behind watches: one row per resourceVersion, the object as it was then. */
@Entity('resource_changes')
@Index('resource_changes_kind_name_resource_version', ['kind', 'name', 'resourceVersion'])
@Check('resource_changes_type', `"type" IN ('ADDED', 'MODIFIED', 'DELETED')`)
export class ResourceChangeRow {
  @PrimaryColumn({ name: 'resource_version', type: 'bigint' })
  resourceVersion!: string;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  type!: 'ADDED' | 'MODIFIED' | 'DELETED';

  @Column({ type: 'jsonb' })
  object!: Record<string, unknown>;

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt!: Date;
}

/** The change log's compaction point, one row: every change at or below it is gone. */
@Entity('change_log_compaction')
@Check('change_log_compaction_one_row', `"id"`)
export class ChangeLogCompactionRow {
  @PrimaryColumn({ type: 'boolean', default: true })
  id!: boolean;

  @Column({ name: 'compacted_through', type: 'bigint' })
  compactedThrough!: string;
}

/** Every mutation the API was asked for, accepted or refused, with who asked (never the token). */
@Entity('audit_log')
@Index('audit_log_at', ['at'])
export class AuditRow {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  verb!: string;

  @Column({ type: 'text' })
  path!: string;

  @Column({ type: 'integer' })
  code!: number;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'request_id', type: 'text' })
  requestId!: string;

  /** How many requests the row stands for: 1, or the unauthenticated ones of a minute beyond the first few. */
  @Column({ type: 'integer', default: 1 })
  count!: number;
}

/** API bearer tokens: only a SHA-256 of the (high-entropy) token is stored. */
@Entity('api_tokens')
@Check('api_tokens_role', `"role" IN ('admin', 'operator', 'viewer')`)
export class ApiTokenRow {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  role!: 'admin' | 'operator' | 'viewer';

  @Column({ name: 'token_hash', type: 'text', unique: true })
  tokenHash!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}

/**
 * The transactional outbox: a command's wire message, written in the same transaction as the
 * command itself; the relay publishes unsent rows to JetStream and marks them sent.
 */
@Entity('outbox')
@Index('outbox_unsent', ['id'], { where: '"sent_at" IS NULL' })
@Index('outbox_sent_at', ['sentAt'])
export class OutboxRow {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text', unique: true })
  command!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'bytea' })
  payload!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;
}

/** (command, sequence) of every agent event ingested: a redelivered event is recognised and skipped. */
@Entity('command_event_receipts')
@Index('command_event_receipts_received_at', ['receivedAt'])
export class CommandEventReceiptRow {
  @PrimaryColumn({ type: 'text' })
  command!: string;

  @PrimaryColumn({ type: 'bigint' })
  sequence!: string;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;
}

/** Leader election: one row per lease; epoch grows by one with every new holder. */
@Entity('leases')
export class LeaseRow {
  @PrimaryColumn({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  holder!: string;

  @Column({ type: 'bigint' })
  epoch!: string;

  @Column({ name: 'renewed_at', type: 'timestamptz' })
  renewedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
/**
 * One-time join tokens for node enrollment: a SHA-256 of the (high-entropy) token only, for one
 * node name, until expires_at; used_at is set in the transaction that issues the certificate.
 */
@Entity('join_tokens')
export class JoinTokenRow {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  node!: string;

  @Column({ name: 'token_hash', type: 'text', unique: true })
  tokenHash!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}

/**
 * Enrolled nodes: the serial of the node's current client certificate (and the one before, so a
 * renewal whose answer was lost can be retried). The NATS authorization is generated from these.
 */
@Entity('node_enrollments')
export class NodeEnrollmentRow {
  @PrimaryColumn({ type: 'text' })
  node!: string;

  @Column({ type: 'text' })
  serial!: string;

  @Column({ name: 'previous_serial', type: 'text', nullable: true })
  previousSerial!: string | null;

  @Column({ name: 'not_after', type: 'timestamptz' })
  notAfter!: Date;

  @Column({ name: 'agent_version', type: 'text' })
  agentVersion!: string;

  @Column({ name: 'enrolled_at', type: 'timestamptz' })
  enrolledAt!: Date;

  @Column({ name: 'renewed_at', type: 'timestamptz', nullable: true })
  renewedAt!: Date | null;
}
/**
 * What the control plane expects to find on a site's node: the fingerprints (item -> sha256 hex)
 * its last successful converge reported, keyed by site name and held for that incarnation (uid).
 * Not in the Site's status: the map is noise to users and includes a digest of wp-config.php;
 * only the drift summary (the Drifted condition) is shown.
 */
@Entity('site_fingerprints')
export class SiteFingerprintsRow {
  @PrimaryColumn({ type: 'text' })
  site!: string;

  @Column({ name: 'site_uid', type: 'uuid' })
  siteUid!: string;

  /** The fence of the command that reported them. */
  @Column({ type: 'bigint' })
  fence!: string;

  @Column({ type: 'jsonb' })
  fingerprints!: Record<string, string>;

  @Column({ name: 'applied_at', type: 'timestamptz' })
  appliedAt!: Date;
}

/** The site that holds each domain (unique across sites), kept in the transaction of each Site write. */
@Entity('site_domains')
@Index('site_domains_site', ['site'])
export class SiteDomainRow {
  @PrimaryColumn({ type: 'text' })
  domain!: string;

  @Column({ type: 'text' })
  site!: string;
}

/**
 * Write-only fields of a resource (a BackupStore's credentials), encrypted with AES-256-GCM under
 * the control plane's key file (additional data "<kind>/<name>"); written in the transaction of
 * the object's write and removed with the object. `version` counts the changes of the secret.
 */
@Entity('resource_secrets')
export class ResourceSecretRow {
  @PrimaryColumn({ type: 'text' })
  kind!: string;

  @PrimaryColumn({ type: 'text' })
  name!: string;

  @Column({ type: 'bytea' })
  ciphertext!: Buffer;

  @Column({ type: 'bytea' })
  nonce!: Buffer;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

export const ENTITIES = [ResourceRow, ResourceChangeRow, ChangeLogCompactionRow, AuditRow, ApiTokenRow, OutboxRow, CommandEventReceiptRow, LeaseRow, JoinTokenRow, NodeEnrollmentRow, SiteFingerprintsRow, SiteDomainRow, ResourceSecretRow];
