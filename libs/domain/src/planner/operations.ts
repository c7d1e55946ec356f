import { type CommandOperation, type CommandState } from '../command.js';
import { type SitePhase } from '../site-lifecycle.js';

/**
 * Operations whose effect cannot be taken back: a deletion removes the site's data, a restore and
 * a clone overwrite the site's content (database and uploads). The planner never retries them on
 * its own; after a failure or a stall an operator decides (retry or abandon). Provision, deploy
 * and rollback only converge code and configuration from templates (every agent step is
 * idempotent, releases are immutable), and a backup only reads, so those are safe to repeat.
 */
const DESTRUCTIVE: Readonly<Record<CommandOperation, boolean>> = {
  ProvisionSite: false,
  DeploySite: false,
  RollbackSite: false,
  BackupSite: false,
  RotateCredentials: false,
  CheckDrift: false,
  RemediateDrift: false,
  CloneSite: true,
  RestoreSite: true,
  DeleteSite: true,
  // Only the site's certificate and server block change; the previous certificate keeps serving until the new one is in place.
  IssueCertificate: false,
};

export function isDestructive(operation: CommandOperation): boolean {
  return DESTRUCTIVE[operation];
}

/**
 * The phase a site is in while the operation runs; issuing the command moves the site there in
 * the same transaction. A backup runs beside an ACTIVE site and changes no phase.
 */
export const OPERATION_PHASE: Readonly<Record<CommandOperation, SitePhase | undefined>> = {
  ProvisionSite: 'PROVISIONING',
  DeploySite: 'DEPLOYING',
  RollbackSite: 'DEPLOYING',
  CloneSite: 'CLONING',
  RestoreSite: 'RESTORING',
  DeleteSite: 'DELETING',
  BackupSite: undefined,
  // Beside an ACTIVE site too: the site keeps serving while its database password changes.
  RotateCredentials: undefined,
  CheckDrift: undefined,
  // A converge of the site's current spec, like a deploy of the same generation.
  RemediateDrift: 'DEPLOYING',
  // Beside an ACTIVE site: it keeps serving (HTTP, and HTTPS with the previous certificate) throughout.
  IssueCertificate: undefined,
};

/**
 * Operations that carry out a run resource (a Backup, a Restore): the run follows its one command,
 * so such a command is not retried by an operator (a new command would have no run); it is
 * abandoned, and a new run created.
 */
export const RUN_OF_OPERATION: Readonly<Partial<Record<CommandOperation, 'Backup' | 'Restore'>>> = {
  BackupSite: 'Backup',
  RestoreSite: 'Restore',
};

/** Condition/event reasons when an operation finished, by outcome. */
export const OPERATION_REASONS: Readonly<Record<CommandOperation, { succeeded: string; failed: string }>> = {
  ProvisionSite: { succeeded: 'Provisioned', failed: 'ProvisionFailed' },
  DeploySite: { succeeded: 'Deployed', failed: 'DeployFailed' },
  RollbackSite: { succeeded: 'RolledBack', failed: 'RollbackFailed' },
  CloneSite: { succeeded: 'Cloned', failed: 'CloneFailed' },
  RestoreSite: { succeeded: 'Restored', failed: 'RestoreFailed' },
  DeleteSite: { succeeded: 'Deleted', failed: 'DeleteFailed' },
  BackupSite: { succeeded: 'BackedUp', failed: 'BackupFailed' },
  RotateCredentials: { succeeded: 'CredentialsRotated', failed: 'RotationFailed' },
  CheckDrift: { succeeded: 'DriftChecked', failed: 'DriftCheckFailed' },
  RemediateDrift: { succeeded: 'DriftRemediated', failed: 'RemediationFailed' },
  IssueCertificate: { succeeded: 'CertificateIssued', failed: 'CertificateFailed' },
};

/**
 * What the fingerprints in a successful command's result mean: `applied`, the node converged
 * (some of) the site and these are what the control plane expects from now on; `observed`, the
 * node only looked (CheckDrift) and these are compared with what is expected; `none`, the site
 * is gone or the operation has nothing to say about it.
 */
export const FINGERPRINTS_MEANING: Readonly<Record<CommandOperation, 'applied' | 'observed' | 'none'>> = {
  ProvisionSite: 'applied',
  DeploySite: 'applied',
  RollbackSite: 'applied',
  RotateCredentials: 'applied',
  RemediateDrift: 'applied',
  CloneSite: 'applied',
  RestoreSite: 'applied',
  CheckDrift: 'observed',
  BackupSite: 'none',
  DeleteSite: 'none',
  // The server block changes with the certificate: what the node left is expected from then on.
  IssueCertificate: 'applied',
};

/**
 * Commands the node may still be working on. STALLED is deliberately not here: it is neither in
 * flight nor finished (the agent may still come back and report), and gets its own handling.
 */
export const IN_FLIGHT_COMMAND_STATES: readonly CommandState[] = ['PENDING', 'DISPATCHED', 'RUNNING'];

export function isInFlight(state: CommandState): boolean {
  return IN_FLIGHT_COMMAND_STATES.includes(state);
}

/**
 * True when a DISPATCHED or RUNNING command has shown no sign of life (heartbeat, start, or
 * dispatch) for longer than `windowMs`. The newest of the timestamps counts, so a long command
 * that keeps heartbeating never stalls. A command with no timestamp at all cannot be judged and
 * is not reported (the relay stamps `dispatchedAt` when it moves a command to DISPATCHED, which
 * covers commands the agent never picked up). PENDING commands sit in the outbox and are the
 * relay's business; finished and already STALLED commands are not stalled again.
 */
export function stalledCommand(
  command: { state: CommandState; lastHeartbeat?: string; startedAt?: string; dispatchedAt?: string },
  now: Date,
  windowMs: number,
): boolean {
  if (command.state !== 'RUNNING' && command.state !== 'DISPATCHED') return false;
  const seen = [command.lastHeartbeat, command.startedAt, command.dispatchedAt]
    .filter((value): value is string => value !== undefined)
    .map((value) => Date.parse(value))
    .filter((ms) => !Number.isNaN(ms));
  if (seen.length === 0) return false;
  return now.getTime() - Math.max(...seen) > windowMs;
}
