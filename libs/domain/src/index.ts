export {
  DOMAIN_MESSAGE,
  DOMAIN_PATTERN,
  NAME_MESSAGE,
  NAME_PATTERN,
  validateDomain,
  validateName,
  type FieldError,
} from './names.js';
export { setCondition, findCondition, type Condition, type ConditionStatus } from './conditions.js';
export { commandDisposition, compareFence, MAX_COMMAND_DELIVERIES, MAX_COMMAND_RUNS, POISON_COMMAND, resumeStep, siteFenceVerdict, type CommandDisposition, type FenceVerdict, type HeldFence, type ResumeStep } from './fencing.js';
export {
  convergeSteps,
  FINGERPRINT_KEYS,
  fingerprintItemsAfter,
  needsRelease,
  pickItems,
  releaseSourceChanged,
  ROLLBACK_ITEMS,
  ROTATION_ITEMS,
  type ConvergeCommand,
  type ConvergeStep,
  type FingerprintingOperation,
  type ReleaseSource,
} from './agent-decisions.js';

export {
  joinTokenInfoSchema,
  joinTokenRequestSchema,
  parseRequest,
  rollbackRequestSchema,
  tokenInfoSchema,
  tokenRequestSchema,
  type JoinTokenInfo,
  type RequestResult,
  type TokenInfo,
} from './api-requests.js';
export { gitSourceProblem, type GitPolicy, type GitSourceProblem } from './git-source.js';
export { API_GROUP, API_VERSION, GROUP_VERSION } from './api-group.js';
export {
  KINDS,
  KIND_NAMES,
  isKindName,
  kindByName,
  kindByPlural,
  kindByResourceName,
  type KindInfo,
  type KindName,
  type PrinterColumn,
} from './kinds.js';
export { formatPath } from './field-path.js';
export {
  DNS_SUBDOMAIN_PATTERN,
  LABEL_NAME_PATTERN,
  LABEL_VALUE_MESSAGE,
  LABEL_VALUE_PATTERN,
  QUALIFIED_NAME_MESSAGE,
  QUALIFIED_NAME_PATTERN,
  validateLabelValue,
  validateQualifiedName,
} from './labels.js';
export { CRON_MACROS, CRON_PATTERN, lastCronRun, nextCronRun, parseCron, validateCron } from './cron.js';
export {
  CPU_PERCENT_PATTERN,
  MEMORY_QUANTITY_PATTERN,
  PHP_SIZE_PATTERN,
  cpuToPercent,
  memoryToMebibytes,
  phpSizeToMegabytes,
} from './quantities.js';
export {
  MAX_ANNOTATIONS_BYTES,
  PLAIN_TEXT_PATTERN,
  PRINTABLE_TEXT_PATTERN,
  REASON_PATTERN,
  RESOURCE_VERSION_PATTERN,
  annotationsSchema,
  conditionSchema,
  conditionsSchema,
  domainSchema,
  finalizersSchema,
  labelsSchema,
  labelValueSchema,
  nameSchema,
  qualifiedNameSchema,
  reasonSchema,
  resourceVersionSchema,
  timestampSchema,
} from './field-schemas.js';
export {
  DRIFT_POLICIES,
  EMAIL_PATTERN,
  SITE_HEALTH_STATES,
  GIT_REF_PATTERN,
  GIT_URL_PATTERN,
  LOCALE_PATTERN,
  PHP_VERSIONS,
  RELEASE_ID_PATTERN,
  SITE_ENVIRONMENTS,
  SITE_URL_PATTERN,
  WORDPRESS_USER_PATTERN,
  WORDPRESS_VERSION_PATTERN,
  backupPolicySchema,
  gitSourceSchema,
  phpSettingsSchema,
  releaseIdSchema,
  siteResourcesSchema,
  siteHealthSchema,
  siteSpecSchema,
  siteStatusSchema,
  wordpressSchema,
  type SiteHealthStatus,
  type SiteSpec,
  type SiteStatus,
} from './site.js';
export {
  NOT_SERVING,
  SERVICE_CONDITIONS,
  SERVING,
  applyNodeServices,
  applyServiceRestarts,
  type ServiceRestarts,
  applySiteHealth,
  siteHealthOf,
  siteReady,
  type ConditionChange,
  type HealthEvent,
  type NodeServiceSample,
  type SiteHealthSample,
} from './site-health.js';
export {
  AGENT_VERSION_PATTERN,
  HETZNER_IMAGE_PATTERN,
  HETZNER_LOCATIONS,
  HETZNER_SERVER_TYPE_PATTERN,
  NODE_PHASES,
  NODE_PROVIDERS,
  hetznerServerSchema,
  nodeSpecSchema,
  nodeStatusSchema,
  type NodePhase,
  type NodeSpec,
  type NodeStatus,
} from './node.js';
export {
  BACKUP_FOR_RESTORE_LABEL,
  BACKUP_REPOSITORY_PATTERN,
  BACKUP_SITE_LABEL,
  BACKUP_SITE_UID_LABEL,
  DEFAULT_BACKUP_STORE,
  RUN_PHASES,
  SNAPSHOT_ID_PATTERN,
  backupSnapshotsSchema,
  backupSpecSchema,
  backupStatusSchema,
  backupStoreCredentialsSchema,
  backupStoreSpecSchema,
  backupStoreStatusSchema,
  restoreSpecSchema,
  restoreStatusSchema,
  type BackupSnapshots,
  type BackupSpec,
  type BackupStatus,
  type BackupStoreCredentials,
  type BackupStoreSpec,
  type BackupStoreStatus,
  type RestoreSpec,
  type RestoreStatus,
  type RunPhase,
} from './backup.js';
export {
  BACKUP_REASONS,
  DEFAULT_PRE_DELETE_KEEP_DAYS,
  isoWeek,
  planBackupRetention,
  type BackupReason,
  type BackupRetentionDecision,
  type BackupRetentionInput,
  type BackupRetentionPlan,
  type BackupRetentionPolicy,
  type BackupRetentionSnapshot,
} from './backup-retention.js';
export { BACKUP_SNAPSHOTS_FINALIZER, groupBackups, planBackupGroup, snapshotIds, snapshotsFinalizerStep, storesInUse, type BackupForgotten, type BackupGroup } from './backup-retention-groups.js';
export { nextScheduledBackup, scheduledBackupDue, scheduledBackupName, type ScheduledBackup } from './backup-schedule.js';
export { EVENT_TYPES, UID_PATTERN, eventBodySchema, eventStatusSchema, uidSchema, type EventBody } from './event.js';
export { EVENT_SOURCE, coreEventMatches, parseCoreEventSelector, toCoreEvent, type CoreEventField, type CoreEventSelector } from './core-event.js';
export { inListOrder, listOrderKey, withSiteCounts } from './serving.js';
export {
  COMMAND_OPERATIONS,
  COMMAND_SITE_LABEL,
  COMMAND_SITE_UID_LABEL,
  COMMAND_STATES,
  TERMINAL_COMMAND_STATES,
  backupResultSchema,
  commandSpecSchema,
  commandStatusSchema,
  dispatchedCommandStatus,
  type BackupResult,
  type CommandOperation,
  type CommandSpec,
  type CommandState,
  type CommandStatus,
} from './command.js';
export { backupStoreAccessRefusal } from './backup-store-access.js';
export { applyCommandEvent, commandEventFromOwner, MAX_COMMAND_LOG_LINES, type AgentCommandEvent } from './command-state.js';
export {
  SERVER_SET_METADATA,
  SPEC_SCHEMAS,
  STATUS_SCHEMAS,
  isKind,
  metadataInputSchema,
  objectMetaSchema,
  type ObjectMeta,
  type Resource,
  type ResourceOf,
  type SpecByKind,
  type StatusByKind,
} from './resource.js';
export {
  UNKNOWN_FIELD_MESSAGE,
  UNKNOWN_FIELD_POLICIES,
  validateManifest,
  validateStatus,
  type ManifestInput,
  type ManifestResult,
  type StatusResult,
  type UnknownFieldPolicy,
} from './manifest.js';
export {
  BUSY_PHASES,
  SITE_PHASES,
  SITE_TRANSITIONS,
  busyOperation,
  canTransition,
  isSitePhase,
  type SitePhase,
} from './site-lifecycle.js';
export { domainChanges } from './site-domains.js';
export { applyMergePatch } from './merge-patch.js';
export { MAX_JSON_PATCH_OPERATIONS, applyJsonPatch, type JsonPatchResult } from './json-patch.js';
export {
  MAX_LABEL_SELECTOR_LENGTH,
  formatLabelSelector,
  matchesLabels,
  parseLabelSelector,
  type LabelSelector,
  type LabelSelectorResult,
  type Requirement,
  type SelectorOperator,
} from './label-selector.js';
export {
  LIST_META_SCHEMA,
  OBJECT_META_SCHEMA,
  OPENAPI_V3_PATH,
  STATUS_SCHEMA,
  buildOpenApiV3,
  buildOpenApiV3Index,
  openApiSchemaName,
  toOpenApiSchema,
} from './openapi.js';
export { buildApiGroup, buildApiGroupList, buildApiResourceList } from './discovery.js';
export {
  STATUS_REASONS,
  WATCH_EVENT_TYPES,
  deleteOptionsSchema,
  k8sStatusSchema,
  listMetaSchema,
  statusCauseSchema,
  statusDetailsSchema,
  watchEventSchema,
  type DeleteOptions,
  type K8sStatus,
  type ListMeta,
  type StatusCause,
  type StatusDetails,
  type WatchEvent,
  type WatchEventType,
} from './k8s-meta.js';
export { NONE, buildTable, humanBytes, tableCells, tableColumnDefinitions, toWireObject, type TableColumnDefinition, type TableInclude } from './table.js';
export { humanAge } from './human-age.js';
export {
  COMMAND_IN_FLIGHT,
  FINGERPRINTS_MEANING,
  IN_FLIGHT_COMMAND_STATES,
  OPERATION_PHASE,
  OPERATION_REASONS,
  SITE_FINALIZER,
  inFlightMessage,
  isDestructive,
  heartbeatStaleInMs,
  isInFlight,
  nextScheduledRun,
  pickNode,
  planNode,
  planSite,
  remediationDue,
  stalledCommand,
  type CommandView,
  type NodeAction,
  type NodeObservation,
  type NodeView,
  type SiteAction,
  type SiteObservation,
} from './planner/index.js';
export {
  FINGERPRINT_DIGEST_PATTERN,
  FINGERPRINT_ITEMS,
  FINGERPRINT_KEY_PATTERN,
  appliedFingerprints,
  compareFingerprints,
  driftFindings,
  wellFormedFingerprints,
  type DriftObservation,
  type Fingerprints,
} from './drift.js';
export { DEFAULT_BLOCKED_NETWORKS, renderSiteFirewall, SITE_FIREWALL_TABLE, SITE_OUTBOUND_PORTS, type SiteFirewallPolicy } from './site-firewall.js';
export {
  admitAnonymousAudit,
  commandPrunable,
  DEFAULT_RETENTION,
  EVENT_STREAM_MAX_AGE_MS,
  eventExpired,
  pruneCutoffs,
  watchExpired,
  type AnonymousMinute,
  type PrunedRecord,
  type Retention,
} from './retention.js';
export {
  afterStart,
  DEFAULT_RESTART_POLICY,
  describeExit,
  INITIAL_SUPERVISED_STATE,
  observeProcess,
  restartDelay,
  type RestartPolicy,
  type SupervisedState,
  type SupervisionDecision,
} from './supervision.js';
