import type { BackupSpec, BackupStatus } from '../backup.js';
import { TERMINAL_COMMAND_STATES, type BackupResult, type CommandState, type CommandStatus } from '../command.js';
import type { Resource } from '../resource.js';
import type { SitePhase } from '../site-lifecycle.js';

/** What a run (Backup, Restore) needs to know of its site. */
export interface RunSiteView {
  readonly name: string;
  readonly phase: SitePhase;
  readonly bound: boolean;
  readonly deleting: boolean;
  /** The site's newest command is not finished (in flight or STALLED): one mutation per site at a time. */
  readonly busy: boolean;
  /** The newest command's operation and state, for the waiting message. */
  readonly busyWith?: string;
}

/** The command that carries a run out, as its planner needs it. */
export interface RunCommandView {
  readonly name: string;
  readonly state: CommandState;
  readonly reason?: string;
  readonly message?: string;
  readonly progress?: CommandStatus['progress'];
  readonly backup?: BackupResult;
}

export interface BackupObservation {
  readonly backup: Resource<BackupSpec, BackupStatus>;
  /** The site spec.site names (undefined: there is none). */
  readonly site: RunSiteView | undefined;
  /** The command status.command names, once RUNNING. */
  readonly command: RunCommandView | undefined;
}

/**
 * The one next step for a Backup. `start`: BackupSite beside the site's phase (fenced, the site
 * row locked), the Backup RUNNING. `wait`: stays PENDING with the message (the site's change
 * wakes it). `progress`: mirror the command's progress. `succeed`/`fail`: the end.
 */
export type BackupAction =
  | { type: 'none' }
  | { type: 'start' }
  | { type: 'wait'; reason: string; message: string }
  | { type: 'progress'; progress: NonNullable<CommandStatus['progress']> }
  | { type: 'succeed'; result: BackupResult }
  | { type: 'fail'; reason: string; message: string };

const NONE: BackupAction = { type: 'none' };

/** Phases a backup can run beside: a serving site, or a failed one (whose data may still be worth keeping). */
const BACKUP_PHASES: readonly SitePhase[] = ['ACTIVE', 'FAILED'];

/**
 * Why a site cannot take a run now (undefined: it can). A site being deleted still can take a
 * backup: the pre-delete backup runs while the deletion waits for it.
 */
export function siteNotIdle(site: RunSiteView, phases: readonly SitePhase[]): string | undefined {
  if (!site.bound) return `site ${site.name} is not on a node yet`;
  if (!phases.includes(site.phase)) return `site ${site.name} is ${site.phase}`;
  if (site.busy) return `site ${site.name} is busy${site.busyWith ? `: ${site.busyWith}` : ''}`;
  return undefined;
}

export function planBackup(observed: BackupObservation): BackupAction {
  const { backup, site, command } = observed;
  const name = backup.metadata.name;
  switch (backup.status.phase) {
    case 'SUCCEEDED':
    case 'FAILED':
      return NONE;
    case 'PENDING': {
      if (!site) return { type: 'fail', reason: 'SiteNotFound', message: `Backup ${name}: site ${backup.spec.site} does not exist` };
      const why = siteNotIdle(site, BACKUP_PHASES);
      return why ? { type: 'wait', reason: 'SiteBusy', message: `Backup ${name}: waiting: ${why}` } : { type: 'start' };
    }
    case 'RUNNING':
      return planRunning(name, backup.status, command);
  }
}

function planRunning(name: string, status: BackupStatus, command: RunCommandView | undefined): BackupAction {
  if (!command) {
    return { type: 'fail', reason: 'CommandNotFound', message: `Backup ${name}: its command ${status.command ?? '(none)'} is gone` };
  }
  if (!TERMINAL_COMMAND_STATES.includes(command.state)) {
    const progress = command.progress;
    const same = progress && status.progress && JSON.stringify(progress) === JSON.stringify(status.progress);
    return progress && !same ? { type: 'progress', progress } : NONE;
  }
  if (command.state === 'SUCCEEDED') {
    return command.backup
      ? { type: 'succeed', result: command.backup }
      : { type: 'fail', reason: 'NoBackupResult', message: `Backup ${name}: ${command.name} succeeded without a well-formed result; nothing is recorded as stored` };
  }
  const how = command.state === 'REJECTED' ? 'was rejected by the node' : 'failed';
  return {
    type: 'fail',
    reason: command.reason && command.reason !== 'StepFailed' ? command.reason : 'BackupFailed',
    message: `Backup ${name}: ${command.name} ${how}${command.message ? `: ${command.message.slice(0, 512)}` : ''}`,
  };
}
