import type { CommandOperation, CommandSpec, CommandState } from './command.js';

/** The states of a command that may still need its store (dispatched to the node, or running there). */
export const IN_FLIGHT_COMMAND_STATES: readonly CommandState[] = ['PENDING', 'DISPATCHED', 'RUNNING'];

/** The operations that read or write a BackupStore (a CloneSite restores the source's backup). */
const STORE_OPERATIONS: readonly CommandOperation[] = ['BackupSite', 'RestoreSite', 'CloneSite'];

/**
 * Whether a node may have a BackupStore's credentials for a command: only its own BackupSite,
 * RestoreSite or CloneSite (it restores the source's backup) naming that store, while in flight. The reason it may not (for the node's log and
 * ours, never a secret), or undefined when it may.
 */
export function backupStoreAccessRefusal(
  request: { readonly node: string; readonly store: string; readonly command: string },
  command: { readonly spec: CommandSpec; readonly state: CommandState } | undefined,
): string | undefined {
  if (!command) return `command ${request.command} does not exist`;
  const { spec, state } = command;
  if (spec.node !== request.node) return `command ${request.command} is not for node ${request.node}`;
  if (!STORE_OPERATIONS.includes(spec.operation)) return `command ${request.command} is a ${spec.operation}, not a backup, restore or clone`;
  if (spec.store !== request.store) return `command ${request.command} does not use backup store ${request.store}`;
  if (!IN_FLIGHT_COMMAND_STATES.includes(state)) return `command ${request.command} is ${state}, no longer in flight`;
  return undefined;
}
