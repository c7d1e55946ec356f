export {
  FINGERPRINTS_MEANING,
  IN_FLIGHT_COMMAND_STATES,
  OPERATION_PHASE,
  OPERATION_REASONS,
  RUN_OF_OPERATION,
  isDestructive,
  isInFlight,
  stalledCommand,
} from './operations.js';
export { boundSite, nodeView, pickNode, type BoundSite, type NodeView } from './pick-node.js';
export { heartbeatStaleInMs, planNode, type NodeAction, type NodeObservation } from './node.planner.js';
export { COMMAND_IN_FLIGHT, UNSCHEDULABLE, inFlightMessage, SITE_FINALIZER, nextScheduledRun, planSite, preDeleteBackupName, cloneBackupName, remediationDue, type CommandView, type SiteAction, type SiteObservation } from './site.planner.js';
export { planBackup, siteNotIdle, type BackupAction, type BackupObservation, type RunCommandView, type RunSiteView } from './backup.planner.js';
export { CONTENT_SYNC_LABEL, planContentSync, syncSourceBackupName, type ContentSyncAction, type ContentSyncObservation, type SyncChildView } from './content-sync.planner.js';
export { planRestore, preRestoreBackupName, restoreTarget, type RestoreAction, type RestoreObservation } from './restore.planner.js';
export { BACKUP_FOR_PROMOTION_LABEL, planPromotion, prePromotionBackupName, promotedGit, type PromotionAction, type PromotionObservation, type PromotionSiteView } from './promotion.planner.js';
export {
  ACME_RATE_LIMITED,
  CERTIFICATE_POLICY,
  CERTIFICATE_READY,
  planCertificate,
  renewAt,
  retryDelayMs,
  siteUrl,
  type CertificateCommandView,
  type CertificateCondition,
  type CertificateObservation,
  type CertificatePlan,
  type CertificateSiteView,
} from './certificate.planner.js';
