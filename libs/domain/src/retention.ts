import { TERMINAL_COMMAND_STATES } from './command.js';

/**
 * Bounded state: how long the control plane keeps each kind of record, like etcd's compaction
 * and kube-apiserver's Event TTL. The leader prunes on a schedule; these are the decisions.
 */

export interface Retention {
  /** The change log behind watches: a watch resuming from before this window gets 410 Expired. */
  readonly changeLogMs: number;
  /** Events, counted from their lastTimestamp (kube-apiserver's --event-ttl, 1 h). */
  readonly eventsMs: number;
  readonly auditMs: number;
  /** Sent outbox rows (the bus holds the message itself). */
  readonly outboxSentMs: number;
  /** Command event receipts: must outlive the event stream's max age, or a redelivery applies twice. */
  readonly receiptsMs: number;
  /** Finished Commands (with their logs), from finishedAt; a site's newest command always stays. */
  readonly commandsMs: number;
  /**
   * Finished runs that hold nothing: FAILED Backups (their snapshots were forgotten on the node)
   * and finished Restores, from completedAt. A SUCCEEDED Backup goes by backup retention only.
   */
  readonly runsMs: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The event stream keeps a message this long (libs/platform bus.ts), so a redelivery comes within it. */
export const EVENT_STREAM_MAX_AGE_MS = 7 * DAY;

export const DEFAULT_RETENTION: Retention = {
  changeLogMs: 15 * MINUTE,
  eventsMs: 60 * MINUTE,
  auditMs: 90 * DAY,
  outboxSentMs: DAY,
  receiptsMs: EVENT_STREAM_MAX_AGE_MS + DAY,
  commandsMs: 30 * DAY,
  runsMs: 30 * DAY,
};

export type PrunedRecord = keyof Retention;

/** Per kind of record: everything last touched before this instant goes. */
export function pruneCutoffs(now: Date, retention: Retention): Record<PrunedRecord, Date> {
  const before = (ms: number) => new Date(now.getTime() - ms);
  return {
    changeLogMs: before(retention.changeLogMs),
    eventsMs: before(retention.eventsMs),
    auditMs: before(retention.auditMs),
    outboxSentMs: before(retention.outboxSentMs),
    receiptsMs: before(retention.receiptsMs),
    commandsMs: before(retention.commandsMs),
    runsMs: before(retention.runsMs),
  };
}

/**
 * Whether a watch from `resourceVersion` (it wants every change after it) can no longer be
 * served: changes up to `compactedThrough` are gone, so it is served only from at or above it.
 */
export function watchExpired(resourceVersion: string, compactedThrough: string): boolean {
  return BigInt(resourceVersion) < BigInt(compactedThrough);
}

/** Whether an Event last seen at `lastTimestamp` is past its TTL's cutoff (a repeat since keeps it). */
export function eventExpired(lastTimestamp: string, cutoff: Date): boolean {
  return Date.parse(lastTimestamp) < cutoff.getTime();
}

/** Unauthenticated mutation requests in one minute: how many got an audit row of their own, how many were only counted. */
export interface AnonymousMinute {
  readonly minute: number;
  readonly rows: number;
  readonly counted: number;
}

/**
 * Whether an unauthenticated request gets an audit row of its own: the first `perMinute` of each
 * minute do, the rest are only counted, so requests without a valid token cannot grow the audit
 * log faster than `perMinute` + 1 rows a minute. `closed` is a minute that had counted requests
 * and is over: it becomes one row with their count.
 */
export function admitAnonymousAudit(
  current: AnonymousMinute | undefined,
  now: Date,
  perMinute: number,
): { readonly ownRow: boolean; readonly minute: AnonymousMinute; readonly closed: AnonymousMinute | undefined } {
  const minute = Math.floor(now.getTime() / 60_000);
  const closed = current && current.minute !== minute && current.counted > 0 ? current : undefined;
  const tally = current?.minute === minute ? current : { minute, rows: 0, counted: 0 };
  const ownRow = tally.rows < perMinute;
  return { ownRow, minute: ownRow ? { ...tally, rows: tally.rows + 1 } : { ...tally, counted: tally.counted + 1 }, closed };
}

/**
 * Whether a Command may go: finished (SUCCEEDED, FAILED or REJECTED) before the cutoff. A site's
 * newest command is never offered (the planner, retry and abandon read it): the pruning query
 * lists only commands with a newer one of the same site.
 */
export function commandPrunable(state: string, finishedAt: string | undefined, cutoff: Date): boolean {
  if (!(TERMINAL_COMMAND_STATES as readonly string[]).includes(state) || finishedAt === undefined) return false;
  return Date.parse(finishedAt) < cutoff.getTime();
}

/** A Backup or Restore run the pruner removes: finished before `cutoff` and holding nothing (never a SUCCEEDED Backup). */
export function runPrunable(kind: 'Backup' | 'Restore', phase: string, completedAt: string | undefined, cutoff: Date): boolean {
  const finished = kind === 'Backup' ? phase === 'FAILED' : phase === 'SUCCEEDED' || phase === 'FAILED';
  return finished && completedAt !== undefined && Date.parse(completedAt) < cutoff.getTime();
}
