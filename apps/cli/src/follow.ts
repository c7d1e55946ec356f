import { ApiError, OperationFailed, UnreachableError } from './errors.js';
import { V1, type ApiClient, type ApiObject, type WatchEvent } from './api-client.js';
import { text } from './output.js';
import type { ProgressView } from './progress.js';

export const TERMINAL_COMMAND_STATES = ['SUCCEEDED', 'FAILED', 'REJECTED'];

/**
 * Watches `plural` until `handle` returns true. When the server ends the stream (its timeout,
 * a restart) the watch resumes after the last version seen; after 410 Expired it starts over
 * with the current objects (handlers see ADDED again and must not mind).
 */
export async function follow(client: ApiClient, plural: string, query: Record<string, string>, handle: (event: WatchEvent) => boolean | Promise<boolean>, signal?: AbortSignal): Promise<void> {
  let version = query['resourceVersion'];
  for (;;) {
    const params = new URLSearchParams({ ...query, watch: 'true', allowWatchBookmarks: 'true' });
    if (version) params.set('resourceVersion', version);
    else params.delete('resourceVersion');
    const done = await client
      .watchOnce(
      `${V1}/${plural}?${params.toString()}`,
      (event) => {
        if (event.type === 'ERROR') {
          const status = event.object as { code?: number; reason?: string; message?: string };
          if (status.code !== 410) throw new ApiError(status.code ?? 500, status);
          version = undefined;
          return false;
        }
        version = event.object.metadata.resourceVersion ?? version;
        return event.type === 'BOOKMARK' ? false : handle(event);
      },
      signal,
    )
      .catch((error: unknown) => {
        // Stopped on purpose (done elsewhere, or the deadline): not an error of the watch.
        if (signal?.aborted) return true;
        throw error;
      });
    if (done || signal?.aborted) return;
  }
}

/** An object's end: done, failed (with the reason and message the API gave), or not yet (undefined). */
export type Verdict = { ok: true } | { ok: false; reason?: string; message: string };

/**
 * Waits, on the object's own watch stream, until `verdict` decides; meanwhile the newest command
 * of `sites` (created after `since`) drives the progress view. Throws OperationFailed on a failure,
 * UnreachableError when `timeoutMs` passes first.
 */
export async function waitFor(
  client: ApiClient,
  target: { plural: string; name: string; verdict: (object: ApiObject) => Verdict | undefined },
  progress?: { view: ProgressView; sites: readonly string[]; since?: string },
  timeoutMs?: number,
): Promise<ApiObject> {
  const stop = new AbortController();
  const deadline = timeoutMs === undefined ? undefined : setTimeout(() => stop.abort(), timeoutMs);
  const watching = progress ? followProgress(client, progress, stop.signal).catch(() => undefined) : Promise.resolve();
  let result: ApiObject | undefined;
  let failure: Verdict | undefined;
  try {
    await follow(
      client,
      target.plural,
      { fieldSelector: `metadata.name=${target.name}` },
      (event) => {
        if (event.type === 'DELETED') {
          failure = { ok: false, reason: 'Deleted', message: `${target.plural}/${target.name} was deleted` };
          return true;
        }
        const verdict = target.verdict(event.object);
        if (!verdict) return false;
        result = event.object;
        if (!verdict.ok) failure = verdict;
        return true;
      },
      stop.signal,
    );
  } finally {
    clearTimeout(deadline);
    stop.abort();
    await watching;
    progress?.view.stop();
  }
  if (failure && !failure.ok) throw new OperationFailed(failure.message, failure.reason);
  if (!result) throw new UnreachableError(`timed out after ${Math.round((timeoutMs ?? 0) / 1000)} s waiting for ${target.plural}/${target.name}`);
  return result;
}

async function followProgress(client: ApiClient, progress: { view: ProgressView; sites: readonly string[]; since?: string }, signal: AbortSignal): Promise<void> {
  await follow(
    client,
    'commands',
    progress.since ? { resourceVersion: progress.since } : {},
    (event) => {
      const command = event.object;
      const site = command.spec?.['site'];
      const p = command.status?.['progress'] as { step?: string; percent?: number } | undefined;
      if (typeof site === 'string' && progress.sites.includes(site) && p?.step !== undefined) {
        progress.view.update(`${text(command.spec?.['operation'])} ${p.step}`, p.percent ?? 0);
      }
      return false;
    },
    signal,
  );
}

/** Backup, Restore, ContentSync, Promotion: status.phase SUCCEEDED or FAILED (with its message). */
export function runVerdict(object: ApiObject): Verdict | undefined {
  const status = object.status ?? {};
  if (status['phase'] === 'SUCCEEDED') return { ok: true };
  if (status['phase'] !== 'FAILED') return undefined;
  const conditions = Array.isArray(status['conditions']) ? (status['conditions'] as Array<{ status?: string; reason?: string }>) : [];
  const reason = conditions.find((c) => c.status === 'False' && c.reason)?.reason;
  return { ok: false, message: text(status['message']) || `${object.kind ?? 'run'} ${object.metadata.name} failed`, ...(reason ? { reason } : {}) };
}

/** A command: SUCCEEDED, or FAILED / REJECTED with the node's reason and message. */
export function commandVerdict(object: ApiObject): Verdict | undefined {
  const state = object.status?.['state'];
  if (state === 'SUCCEEDED') return { ok: true };
  if (state !== 'FAILED' && state !== 'REJECTED') return undefined;
  const reason = object.status?.['reason'];
  return { ok: false, message: text(object.status?.['message']) || `command ${object.metadata.name} ${String(state)}`, ...(typeof reason === 'string' ? { reason } : {}) };
}

/** A site: ACTIVE (and not about to change), or FAILED. */
export function siteVerdict(object: ApiObject): Verdict | undefined {
  const status = object.status ?? {};
  const generation = (object.metadata as { generation?: number }).generation;
  if (status['phase'] === 'ACTIVE' && (generation === undefined || status['observedGeneration'] === generation)) return { ok: true };
  if (status['phase'] !== 'FAILED') return undefined;
  return { ok: false, reason: 'SiteFailed', message: `site ${object.metadata.name} is FAILED${conditionMessage(object, 'Ready')}` };
}

/** `--for=condition=<type>=<status>`. */
export function conditionVerdict(type: string, status: string): (object: ApiObject) => Verdict | undefined {
  return (object) => {
    const conditions = Array.isArray(object.status?.['conditions']) ? (object.status['conditions'] as Array<{ type?: string; status?: string }>) : [];
    return conditions.some((c) => c.type === type && c.status === status) ? { ok: true } : undefined;
  };
}

function conditionMessage(object: ApiObject, type: string): string {
  const conditions = Array.isArray(object.status?.['conditions']) ? (object.status['conditions'] as Array<{ type?: string; reason?: string; message?: string }>) : [];
  const condition = conditions.find((c) => c.type === type);
  return condition?.message ? `: ${condition.reason ?? ''} ${condition.message}` : '';
}
