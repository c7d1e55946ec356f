export {
  FINGERPRINTS_MEANING,
  IN_FLIGHT_COMMAND_STATES,
  OPERATION_PHASE,
  OPERATION_REASONS,
  isDestructive,
  isInFlight,
  stalledCommand,
} from './operations.js';
export { pickNode, type NodeView } from './pick-node.js';
export { heartbeatStaleInMs, planNode, type NodeAction, type NodeObservation } from './node.planner.js';
export { COMMAND_IN_FLIGHT, inFlightMessage, SITE_FINALIZER, nextScheduledRun, planSite, remediationDue, type CommandView, type SiteAction, type SiteObservation } from './site.planner.js';
