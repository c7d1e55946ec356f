import type { ApiObject } from '../../core/types';

/** A Command as the console reads it (libs/domain command.ts). */
export interface CommandSpec {
  readonly site: string;
  readonly node: string;
  readonly fence: number;
  readonly operation: string;
  readonly generation: number;
  readonly backup?: string;
  readonly restore?: string;
}
export interface CommandStatus {
  readonly state?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly progress?: { readonly step?: string; readonly percent?: number };
  readonly dispatchedAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly lastHeartbeat?: string;
}
export type Command = ApiObject<CommandSpec, CommandStatus>;

export const COMMAND_STATES = ['PENDING', 'DISPATCHED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'REJECTED', 'STALLED'] as const;

/** States that need a person: shown highlighted, with a marker besides the colour. */
export function needsAttention(command: Command): boolean {
  return command.status?.state === 'STALLED' || command.status?.state === 'FAILED' || command.status?.state === 'REJECTED';
}

/** Newest first. */
export function newestFirst<T extends ApiObject<object, object>>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || b.metadata.name.localeCompare(a.metadata.name));
}
