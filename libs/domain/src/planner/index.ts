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
export { pickNode, type NodeView } from './pick-node.js';
export { heartbeatStaleInMs, planNode, type NodeAction, type NodeObservation } from './node.planner.js';
export { COMMAND_IN_FLIGHT, inFlightMessage, SITE_FINALIZER, nextScheduledRun, planSite, preDeleteBackupName, remediationDue, type CommandView, type SiteAction, type SiteObservation } from './site.planner.js';
export { planBackup, siteNotIdle, type BackupAction, type BackupObservation, type RunCommandView, type RunSiteView } from './backup.planner.js';
export { planRestore, preRestoreBackupName, restoreTarget, type RestoreAction, type RestoreObservation } from './restore.planner.js';
