import type { CommandSpec, CommandState } from './command.js';

/** The states of a command that may still need its store (dispatched to the node, or running there). */
export const IN_FLIGHT_COMMAND_STATES: readonly CommandState[] = ['PENDING', 'DISPATCHED', 'RUNNING'];

/**
 * Whether a node may have a BackupStore's credentials for a command: only its own BackupSite or
 * RestoreSite naming that store, while in flight. The reason it may not (for the node's log and
 * ours, never a secret), or undefined when it may.
 */
export function backupStoreAccessRefusal(
  request: { readonly node: string; readonly store: string; readonly command: string },
  command: { readonly spec: CommandSpec; readonly state: CommandState } | undefined,
): string | undefined {
  if (!command) return `command ${request.command} does not exist`;
  const { spec, state } = command;
  if (spec.node !== request.node) return `command ${request.command} is not for node ${request.node}`;
  if (spec.operation !== 'BackupSite' && spec.operation !== 'RestoreSite') return `command ${request.command} is a ${spec.operation}, not a backup or restore`;
  if (spec.store !== request.store) return `command ${request.command} does not use backup store ${request.store}`;
  if (!IN_FLIGHT_COMMAND_STATES.includes(state)) return `command ${request.command} is ${state}, no longer in flight`;
  return undefined;
}
