import { Cron } from 'croner';

/** Five-field cron (minute hour day-of-month month day-of-week) plus the common @ macros. */

export const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] as const;

/** Shape only (the characters and the five fields); bounds are checked by validateCron. */
export const CRON_PATTERN = /^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9*/,-]+( +[0-9*/,-]+){4})$/;

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 }, // 0 and 7 are both Sunday, as in Vixie cron
] as const;

const NUMBER = /^(0|[1-9][0-9]?)$/;

/** Returns why the expression is not a valid schedule, or undefined if it is. Never echoes the input. */
export function validateCron(expression: string): string | undefined {
  if (!CRON_PATTERN.test(expression)) {
    return "must be a cron schedule of five space-separated fields (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @weekly, @monthly, @yearly";
  }
  if (expression.startsWith('@')) return undefined;
  const parts = expression.split(/ +/);
  for (const [i, field] of FIELDS.entries()) {
    const problem = validateField(parts[i] ?? '', field.min, field.max);
    if (problem) return `${field.name} field: ${problem}`;
  }
  return undefined;
}

function validateField(text: string, min: number, max: number): string | undefined {
  for (const item of text.split(',')) {
    const problem = validateItem(item, min, max);
    if (problem) return problem;
  }
  return undefined;
}

function validateItem(item: string, min: number, max: number): string | undefined {
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined) return 'at most one "/" per item';
  if (step !== undefined) {
    if (!NUMBER.test(step) || Number(step) < 1 || Number(step) > max) return `step must be a number from 1 to ${max}`;
  }
  if (range === '*') return undefined;
  const [from = '', to, more] = range.split('-');
  if (more !== undefined) return 'a range has exactly one "-"';
  if (!NUMBER.test(from) || (to !== undefined && !NUMBER.test(to))) return 'items must be *, N, N-M, */S or N-M/S';
  const low = Number(from);
  const high = to === undefined ? low : Number(to);
  if (low < min || high > max) return `values must be from ${min} to ${max}`;
  if (low > high) return 'a range must not run backwards';
  // "5/15" is accepted by some crons and refused by others: ask for an explicit range instead.
  if (step !== undefined && to === undefined) return 'a step needs * or a range before it (like 0-59/15)';
  return undefined;
}

const DAY_MS = 86_400_000;

/**
 * A valid expression (validateCron) as a croner schedule: UTC, five fields, day-of-month OR
 * day-of-week when both are restricted (Vixie cron; a stepped field like "*\/2" counts as
 * restricted). Never started: only its run times are read.
 */
export function parseCron(expression: string, window: { startAt?: Date; stopAt?: Date } = {}): Cron {
  const problem = validateCron(expression);
  if (problem) throw new Error(`invalid cron schedule: ${problem}`);
  return new Cron(expression, { timezone: 'UTC', mode: '5-part', domAndDow: false, ...window });
}

/**
 * Expressions that never run (like "0 0 30 2 *", which validation accepts): croner searches
 * for years before it says so, tens of milliseconds a call, so the answer is kept (bounded).
 */
const NEVER_RUNS = new Set<string>();
const NEVER_RUNS_MAX = 1000;

function neverRuns(expression: string): boolean {
  return NEVER_RUNS.has(expression);
}

/** After a search found nothing in its window: remember the expression if it never runs at all. */
function noRunInWindow(expression: string): undefined {
  if (parseCron(expression).nextRun(new Date(0)) === null) {
    if (NEVER_RUNS.size >= NEVER_RUNS_MAX) NEVER_RUNS.clear();
    NEVER_RUNS.add(expression);
  }
  return undefined;
}

/** The newest scheduled minute (UTC) at or before `now`, looking back at most `windowDays`; undefined when none falls in the window. */
export function lastCronRun(expression: string, now: Date, windowDays = 366): Date | undefined {
  if (neverRuns(expression)) return undefined;
  // croner's previous runs are strictly before the reference (a run earlier in its second counts): +1 ms makes `now` itself count.
  const [run] = parseCron(expression, { startAt: new Date(now.getTime() - windowDays * DAY_MS) }).previousRuns(1, new Date(now.getTime() + 1));
  return run && run.getTime() <= now.getTime() ? run : noRunInWindow(expression);
}

/** The first scheduled minute (UTC) after `now`, looking ahead at most `windowDays`; undefined when none falls in the window. */
export function nextCronRun(expression: string, now: Date, windowDays = 366): Date | undefined {
  if (neverRuns(expression)) return undefined;
  const run = parseCron(expression, { stopAt: new Date(now.getTime() + windowDays * DAY_MS) }).nextRun(now);
  return run && run.getTime() > now.getTime() ? run : noRunInWindow(expression);
}
