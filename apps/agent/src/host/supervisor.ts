import { afterStart, describeExit, INITIAL_SUPERVISED_STATE, observeProcess, type RestartPolicy, type SupervisedState } from '@pressluft/domain';
import { messageOf } from './errors.js';

/** Exits remembered for PIDs the agent started, at most this many (oldest dropped). */
const MAX_EXITS = 1024;
/** Waits (20 ms each) for the exit of a process seen gone, before it counts as gone without one. */
const EXIT_WAITS = 10;

/**
 * Keeps processes running (the sites' PHP-FPM masters, node services the agent starts): each
 * `supervise` looks once (the process's PID, if it runs), and when the policy says so starts it
 * again (libs/domain supervision: at once after a first death, then with a doubling, capped
 * backoff; a streak of restarts is a crash loop). How a process ended is known for the ones
 * this agent process started (`exited`); one started before the agent's restart is only seen gone.
 */
export class Supervisor {
  private readonly states = new Map<string, SupervisedState>();
  private readonly pids = new Map<string, number>();
  private readonly exits = new Map<number, string>();

  constructor(
    private readonly policy: RestartPolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Hand to whatever spawns a supervised process: records how it ended. */
  readonly exited = (pid: number, code: number | null, signal: NodeJS.Signals | null): void => {
    this.exits.set(pid, describeExit(code, signal));
    if (this.exits.size > MAX_EXITS) this.exits.delete(this.exits.keys().next().value as number);
  };

  /**
   * One look at `key`'s process (`running`: its PID or undefined) and, when due, a start (its
   * new PID). `lastPid` names the process it was (its pid file), for how it ended, when this
   * supervisor never saw it running. True when the state changed (a restart, a failed start, a
   * loop begun or ended).
   */
  async supervise(key: string, running: () => Promise<number | undefined>, start: () => Promise<number>, lastPid?: () => Promise<number | undefined>): Promise<boolean> {
    const before = this.state(key);
    const pid = await running();
    const last = this.pids.get(key) ?? (pid === undefined ? await lastPid?.() : undefined);
    if (pid !== undefined) this.pids.set(key, pid);
    const exit = pid === undefined && last !== undefined ? await this.exitOf(last) : undefined;
    const { state, decision } = observeProcess(before, { up: pid !== undefined, ...(exit ? { exit } : {}) }, this.clock(), this.policy);
    let next = state;
    if (decision.action === 'start') {
      try {
        this.pids.set(key, await start());
        next = afterStart(state, { ok: true }, this.clock(), this.policy);
      } catch (error) {
        next = afterStart(state, { ok: false, error: `start failed: ${messageOf(error)}`.slice(0, 300) }, this.clock(), this.policy);
      }
    }
    this.states.set(key, next);
    return next !== before && (next.restarts !== before.restarts || next.crashLooping !== before.crashLooping || next.lastExit !== before.lastExit);
  }

  /** How `pid` ended, if this agent started it: a child that just died is reaped a moment later. */
  private async exitOf(pid: number): Promise<string | undefined> {
    for (let i = 0; i < EXIT_WAITS && !this.exits.has(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.exits.get(pid);
  }

  state(key: string): SupervisedState {
    return this.states.get(key) ?? INITIAL_SUPERVISED_STATE;
  }

  /** The process is gone for good (its site removed): nothing about it is kept. */
  forget(key: string): void {
    this.states.delete(key);
    this.pids.delete(key);
  }
}
