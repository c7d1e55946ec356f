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

const MACRO_EXPANSIONS: Readonly<Record<(typeof CRON_MACROS)[number], string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface ParsedCron {
  readonly fields: readonly (ReadonlySet<number>)[];
  readonly domAny: boolean;
  readonly dowAny: boolean;
}

function expandField(text: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', step] = item.split('/');
    const [from, to] = range === '*' ? [min, max] : range.split('-').map(Number);
    const low = from ?? min;
    const high = to ?? (range === '*' ? max : low);
    for (let v = low; v <= high; v += step ? Number(step) : 1) out.add(v);
  }
  return out;
}

/** A valid expression (validateCron) as sets of allowed values; Sunday is 0. */
export function parseCron(expression: string): ParsedCron {
  const problem = validateCron(expression);
  if (problem) throw new Error(`invalid cron schedule: ${problem}`);
  const text = expression.startsWith('@') ? MACRO_EXPANSIONS[expression as (typeof CRON_MACROS)[number]] : expression;
  const parts = text.split(/ +/);
  const fields = FIELDS.map((field, i) => expandField(parts[i] ?? '*', field.min, field.max));
  const dow = fields[4] as Set<number>;
  if (dow.has(7)) dow.add(0);
  return { fields, domAny: parts[2] === '*', dowAny: parts[4] === '*' };
}

/** Whether the UTC day is a scheduled day (Vixie cron: both day fields restricted = either matches). */
function dayMatches(cron: ParsedCron, day: Date): boolean {
  const [, , dom, month, dow] = cron.fields as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (!month.has(day.getUTCMonth() + 1)) return false;
  const byDom = dom.has(day.getUTCDate());
  const byDow = dow.has(day.getUTCDay());
  if (cron.domAny && cron.dowAny) return true;
  if (cron.domAny) return byDow;
  if (cron.dowAny) return byDom;
  return byDom || byDow;
}

/**
 * The newest scheduled minute (UTC) at or before `now`, looking back at most `windowDays`;
 * undefined when none falls in the window. Days are checked first, so a year is ~366 steps.
 */
export function lastCronRun(expression: string, now: Date, windowDays = 366): Date | undefined {
  const cron = parseCron(expression);
  const [minutes, hours] = cron.fields as [Set<number>, Set<number>];
  const startOfDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let d = 0; d <= windowDays; d++) {
    const day = new Date(startOfDay - d * 86_400_000);
    if (!dayMatches(cron, day)) continue;
    for (let h = 23; h >= 0; h--) {
      if (!hours.has(h)) continue;
      for (let m = 59; m >= 0; m--) {
        if (!minutes.has(m)) continue;
        const at = new Date(day.getTime() + h * 3_600_000 + m * 60_000);
        if (at.getTime() <= now.getTime()) return at;
      }
    }
  }
  return undefined;
}
