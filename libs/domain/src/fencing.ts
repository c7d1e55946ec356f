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
