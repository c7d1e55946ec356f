import { backupResultSchema, TERMINAL_COMMAND_STATES, type CommandStatus } from './command.js';
import { installedCertificateSchema } from './site.js';

/** Lines of a command's log kept in its status (the newest). */
export const MAX_COMMAND_LOG_LINES = 1000;
/** Longest log line, message, as stored. */
const MAX_TEXT = 4096;

/** What an agent reports about one of its commands (the wire's CommandEvent, as the state machine sees it). */
export type AgentCommandEvent = { readonly sequence: number } & (
  | { readonly type: 'accepted' }
  | { readonly type: 'progress'; readonly step: string; readonly percent: number; readonly bytes?: number; readonly files?: number }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'heartbeat' }
  | { readonly type: 'succeeded'; readonly message: string; readonly backup?: unknown; readonly certificate?: unknown }
  | { readonly type: 'failed' | 'rejected'; readonly reason: string; readonly message: string; readonly retryAfterSeconds?: number }
);

/**
 * Whether a node may speak about a command: the command exists, is addressed to that node, and
 * the event names the same node as the subject it arrived on. Checked before anything about the
 * event is recorded, so a node cannot use up another node's (command, sequence) receipts.
 */
export function commandEventFromOwner(commandNode: string | undefined, subjectNode: string, eventNode: string | undefined): boolean {
  return commandNode !== undefined && commandNode === subjectNode && eventNode === subjectNode;
}

/**
 * The command's status after one event; the same object when nothing changes. Terminal states
 * are final; a STALLED command stays STALLED when the agent says it accepted it (an operator
 * decides), but its result still ends it. Undefined: an event of a kind this version does not
 * know, which changes nothing.
 */
export function applyCommandEvent(status: CommandStatus, event: AgentCommandEvent | undefined, at: string): CommandStatus {
  if (!event || TERMINAL_COMMAND_STATES.includes(status.state)) return status;
  const next: CommandStatus = { ...status, lastSequence: Math.max(status.lastSequence, event.sequence), lastHeartbeat: at };
  switch (event.type) {
    case 'accepted':
      return status.state === 'STALLED' ? next : { ...next, state: 'RUNNING', startedAt: status.startedAt ?? at };
    case 'progress': {
      const progress = progressOf(event);
      return { ...next, log: appendLog(status.log, `${event.step} (${event.percent}%)`), ...(progress ? { progress } : {}) };
    }
    case 'log':
      return { ...next, log: appendLog(status.log, event.line) };
    case 'heartbeat':
      return next;
    case 'succeeded': {
      // A backup's result is kept only when it is well-formed (its reconciler copies it into the Backup).
      const backup = event.backup === undefined ? undefined : backupResultSchema.safeParse(event.backup);
      // Likewise an issued certificate (the certificate reconciler copies it into the site's status).
      const certificate = event.certificate === undefined ? undefined : installedCertificateSchema.safeParse(event.certificate);
      return {
        ...next,
        state: 'SUCCEEDED',
        finishedAt: at,
        message: event.message.slice(0, MAX_TEXT),
        ...(backup?.success ? { backup: backup.data } : {}),
        ...(certificate?.success ? { certificate: certificate.data } : {}),
      };
    }
    case 'failed':
    case 'rejected':
      return { ...next, state: event.type === 'failed' ? 'FAILED' : 'REJECTED', finishedAt: at, ...reasonOf(event.reason), message: event.message.slice(0, MAX_TEXT), ...retryAfterOf(event.retryAfterSeconds) };
  }
}

/** The newest progress as status keeps it; undefined when its step is not a kebab-case word (the log line still says it). */
function progressOf(event: { step: string; percent: number; bytes?: number; files?: number }): CommandStatus['progress'] {
  if (!/^[a-z][a-z-]{0,63}$/.test(event.step)) return undefined;
  const count = (value: number | undefined) => (value !== undefined && Number.isSafeInteger(value) && value > 0 ? value : undefined);
  const bytes = count(event.bytes);
  const files = count(event.files);
  const percent = Math.min(100, Math.max(0, Math.round(event.percent)));
  return { step: event.step, percent, ...(bytes !== undefined ? { bytes } : {}), ...(files !== undefined ? { files } : {}) };
}

/** A failure's advice not to retry for a while: whole seconds, at most 30 days; none for 0. */
function retryAfterOf(seconds: number | undefined): { retryAfterSeconds?: number } {
  return seconds !== undefined && Number.isSafeInteger(seconds) && seconds > 0 ? { retryAfterSeconds: Math.min(seconds, 30 * 24 * 3600) } : {};
}

/** Only a CamelCase reason is kept (it becomes an Event's reason); anything else is dropped. */
function reasonOf(reason: string): { reason?: string } {
  return /^[A-Z][A-Za-z0-9]{0,127}$/.test(reason) ? { reason } : {};
}

function appendLog(log: readonly string[], line: string): string[] {
  // Control characters (but tab and newline) never reach a terminal that shows the log.
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').slice(0, MAX_TEXT);
  const next = [...log, clean];
  return next.length > MAX_COMMAND_LOG_LINES ? next.slice(next.length - MAX_COMMAND_LOG_LINES) : next;
}
