/**
 * Restarting a supervised process (a site's PHP-FPM master, a node service): when, how often
 * before it counts as a crash loop, and when a loop is over. Pure: the caller observes the
 * process, asks what to do, and reports how a start went; the clock is a number it passes in.
 *
 * The first death is answered at once (a site must be back within seconds); every further
 * restart before the process stayed up `stableMs` waits twice as long as the one before, up to
 * `maxDelayMs`. `crashLoopRestarts` such restarts in a row are a crash loop: reported, and still
 * retried after the (capped) backoff, never given up, so a fixed cause heals by itself. A
 * process that then stays up `stableMs` ends the loop and the backoff starts from the beginning.
 */
export interface RestartPolicy {
  /** Wait before the second restart in a row; doubled for each further one. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Restarts in a row (without a stable run between them) that make a crash loop. */
  readonly crashLoopRestarts: number;
  /** Up this long after a restart: the run was stable (the loop, if any, is over). */
  readonly stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseDelayMs: 1000, maxDelayMs: 30_000, crashLoopRestarts: 3, stableMs: 60_000 };

export interface SupervisedState {
  /** Restarts by this supervisor (a counter for metrics: only ever grows). */
  readonly restarts: number;
  /** Restarts in a row: since the last stable run. */
  readonly streak: number;
  readonly crashLooping: boolean;
  /** How the process last ended (or why its last start failed), for people. */
  readonly lastExit?: string;
  /** When it was seen down (a death not yet answered by a successful start). */
  readonly downSince?: number;
  /** When it was last seen coming up (by a start or at adoption). */
  readonly upSince?: number;
}

export const INITIAL_SUPERVISED_STATE: SupervisedState = { restarts: 0, streak: 0, crashLooping: false };

export type SupervisionDecision = { readonly action: 'none' } | { readonly action: 'start' } | { readonly action: 'wait'; readonly until: number };

/** The wait before restart number `streak + 1` in a row (0 for the first). */
export function restartDelay(streak: number, policy: RestartPolicy): number {
  if (streak <= 0) return 0;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(streak - 1, 30));
}

/**
 * One observation: the process is up or not (`exit`: how it ended, when known). Returns the
 * state to keep and what to do now.
 */
export function observeProcess(
  state: SupervisedState,
  observation: { readonly up: boolean; readonly exit?: string },
  now: number,
  policy: RestartPolicy,
): { state: SupervisedState; decision: SupervisionDecision } {
  if (observation.up) {
    const upSince = state.upSince ?? now;
    const stable = state.streak > 0 && now - upSince >= policy.stableMs;
    const next: SupervisedState = stable ? { ...state, upSince, downSince: undefined, streak: 0, crashLooping: false } : { ...state, upSince, downSince: undefined };
    return { state: same(state, next) ? state : next, decision: { action: 'none' } };
  }
  const fresh = state.downSince === undefined;
  // A death after a stable run starts a new streak (it was last seen up that long ago, at least).
  const stableBefore = fresh && state.upSince !== undefined && now - state.upSince >= policy.stableMs;
  const downSince = state.downSince ?? now;
  const lastExit = fresh ? (observation.exit ?? 'exited (seen gone)') : state.lastExit;
  const next: SupervisedState = { ...state, downSince, upSince: undefined, lastExit, ...(stableBefore ? { streak: 0, crashLooping: false } : {}) };
  const until = downSince + restartDelay(next.streak, policy);
  return { state: same(state, next) ? state : next, decision: now >= until ? { action: 'start' } : { action: 'wait', until } };
}

/** After a start attempt: counted as a restart; a failed one leaves the process down (its reason the last exit). */
export function afterStart(state: SupervisedState, outcome: { readonly ok: true } | { readonly ok: false; readonly error: string }, now: number, policy: RestartPolicy): SupervisedState {
  const streak = state.streak + 1;
  const base = { ...state, restarts: state.restarts + 1, streak, crashLooping: streak >= policy.crashLoopRestarts };
  return outcome.ok ? { ...base, downSince: undefined, upSince: now } : { ...base, downSince: now, upSince: undefined, lastExit: outcome.error };
}

function same(a: SupervisedState, b: SupervisedState): boolean {
  return a.restarts === b.restarts && a.streak === b.streak && a.crashLooping === b.crashLooping && a.lastExit === b.lastExit && a.downSince === b.downSince && a.upSince === b.upSince;
}

/** How a child process ended, in words ("killed by SIGKILL", "exited with code 78"). */
export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  return code === null ? 'exited' : `exited with code ${code}`;
}
