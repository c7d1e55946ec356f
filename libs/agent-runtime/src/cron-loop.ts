import type { Logger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import type { SiteOperations } from './site-operations.js';
import type { SerialQueue } from './site-queue.js';

/** When a site's WP-Cron runs by default: every minute. */
export const DEFAULT_CRON_MS = 60_000;

export interface CronLoopOptions {
  readonly host: Pick<SiteOperations, 'runCron'>;
  /** The sites to run WP-Cron for now (applied, not being deleted), read at every tick. */
  readonly sites: () => ReadonlyMap<string, SiteConfig>;
  /** The agent's per-site queue: a run starts only while no command works on the site (and never holds the queue). */
  readonly perSite: SerialQueue;
  readonly logger: Logger;
  /** How often each site's due events run (default DEFAULT_CRON_MS). */
  readonly everyMs?: number;
  /** The timer (tests pass their own). */
  readonly setInterval?: (task: () => void, ms: number) => unknown;
  readonly clearInterval?: (timer: unknown) => void;
}

/**
 * WP-Cron on the node's schedule instead of on page views (wp-config.php sets DISABLE_WP_CRON):
 * every `everyMs` each idle site's due events run (SiteOperations.runCron). Sites run side by
 * side, each at most once at a time: a site whose last run or a command is still going is skipped
 * this tick. A run is like a page view: it never holds the site's queue, so a command or the
 * site's supervision (a dead PHP-FPM master restarted) never waits for it, even when it runs to
 * its timeout. A failure is logged and the loop goes on.
 */
export class CronLoop {
  private timer: unknown;
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly options: CronLoopOptions) {}

  start(): void {
    this.stopped = false;
    const every = this.options.setInterval ?? ((task: () => void, ms: number) => setInterval(task, ms));
    this.timer = every(() => this.tick(), this.options.everyMs ?? DEFAULT_CRON_MS);
  }

  /** No new runs; waits for the ones going. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) (this.options.clearInterval ?? ((timer: unknown) => clearInterval(timer as NodeJS.Timeout)))(this.timer);
    this.timer = undefined;
    await Promise.all(this.running.values());
  }

  /** One tick: a run starts for every idle site; returns the names of the sites it started. */
  tick(): string[] {
    const { host, perSite, logger } = this.options;
    const started: string[] = [];
    for (const [site, config] of this.options.sites()) {
      if (this.stopped) break;
      if (this.running.has(site) || perSite.busy(site)) continue;
      const run = host
        .runCron(config)
        .catch((error: unknown) => logger.warn({ site, err: error instanceof Error ? error.message : String(error) }, 'cron: the site’s due events did not run'))
        .finally(() => this.running.delete(site));
      this.running.set(site, run);
      started.push(site);
    }
    return started;
  }
}
