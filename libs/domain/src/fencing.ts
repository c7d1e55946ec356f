export type FenceVerdict = 'apply' | 'duplicate' | 'stale';

/**
 * Fencing: a node applies a command for a site only if its fence is newer than the highest it
 * has applied. An equal fence is a redelivery of the command already applied.
 */
export function compareFence(commandFence: number, highestApplied: number | undefined): FenceVerdict {
  if (!Number.isSafeInteger(commandFence) || commandFence < 1) return 'stale';
  if (highestApplied === undefined || commandFence > highestApplied) return 'apply';
  return commandFence === highestApplied ? 'duplicate' : 'stale';
}

/** What a node holds for a site: the fence of the last command it accepted and the site incarnation it belongs to. */
export interface HeldFence {
  readonly fence: number;
  /** The command that holds the fence. */
  readonly command: string;
  /** Runs of that command started on the node. */
  readonly attempt: number;
  /** Its result was published. */
  readonly done: boolean;
  /** The site incarnation (short id from its uid). */
  readonly siteId: string;
  /** The command holding the fence deleted the site (a tombstone). */
  readonly deleted: boolean;
  /** The command holding the fence is a DeleteSite (done or not, succeeded or not). */
  readonly deleting: boolean;
}

/** What a restarted agent does for a site before it takes commands. */
export type ResumeStep = 'converge' | 'remove' | 'none';

/**
 * A site whose last accepted command is a DeleteSite that has not deleted it (it failed halfway,
 * or the restart interrupted it) is removed again, never converged: its applied configuration is
 * still on disk, and converging it would bring back what the deletion already took. A resumed
 * removal is a run of that command (it counts as an attempt): one that was started
 * MAX_COMMAND_RUNS times is not resumed, so a removal that kills the agent cannot do so on every
 * start. A deleted site is left alone; any other site converges to the configuration it last
 * applied, if any.
 */
export function resumeStep(held: Pick<HeldFence, 'attempt' | 'deleted' | 'deleting'>, hasAppliedConfig: boolean): ResumeStep {
  if (held.deleted) return 'none';
  if (held.deleting) return held.attempt < MAX_COMMAND_RUNS ? 'remove' : 'none';
  return hasAppliedConfig ? 'converge' : 'none';
}

/**
 * The verdict for one site incarnation: a site created again under a deleted one's name (another
 * id) starts over; a command for another incarnation than the live one, or for the deleted one,
 * is stale for good.
 */
export function siteFenceVerdict(held: Pick<HeldFence, 'fence' | 'siteId' | 'deleted'> | undefined, siteId: string, fence: number): FenceVerdict {
  if (held && held.siteId !== siteId) return held.deleted ? compareFence(fence, undefined) : 'stale';
  return compareFence(fence, held?.fence);
}

/** Runs of one command a node starts without finishing one before it gives up on it. */
export const MAX_COMMAND_RUNS = 5;
/**
 * Deliveries of one command a node takes before it gives up on it. Higher than the runs: a
 * delivery also comes after a connection loss, or when the agent could not record the run.
 */
export const MAX_COMMAND_DELIVERIES = 10;

/** The reason a command ends with when it keeps killing (or wedging) the agent. */
export const POISON_COMMAND = 'PoisonCommand';

/** What a node does with a fenced command. */
export type CommandDisposition =
  | { readonly action: 'reject' }
  | { readonly action: 'acknowledge' }
  | { readonly action: 'run'; readonly attempt: number }
  | { readonly action: 'fail'; readonly attempt: number; readonly reason: string; readonly message: string };

/**
 * Reject a stale command; only acknowledge a redelivery whose result is already published; run
 * anything else, a redelivery of an interrupted command as its next attempt, unless it was
 * started MAX_COMMAND_RUNS times (or delivered MAX_COMMAND_DELIVERIES times) without a result:
 * a command that crashes or wedges the agent every time fails (PoisonCommand) instead of being
 * run forever. `deliveries` is the bus's delivery count of this message.
 */
export function commandDisposition(verdict: FenceVerdict, held: Pick<HeldFence, 'command' | 'attempt' | 'done'> | undefined, command: string, deliveries = 1): CommandDisposition {
  if (verdict === 'stale') return { action: 'reject' };
  if (verdict === 'duplicate' && held?.command === command && held.done) return { action: 'acknowledge' };
  const attempt = verdict === 'duplicate' && held ? held.attempt + 1 : 1;
  if (attempt > MAX_COMMAND_RUNS || deliveries > MAX_COMMAND_DELIVERIES) {
    const runs = attempt - 1;
    return {
      action: 'fail',
      attempt,
      reason: POISON_COMMAND,
      message: `delivered ${deliveries} times and started ${runs} times on this node without completing (the agent stopped or was restarted during every run); not run again`,
    };
  }
  return { action: 'run', attempt };
}
