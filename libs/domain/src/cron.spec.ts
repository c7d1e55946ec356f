import { describe, expect, it } from 'vitest';
import { lastCronRun, nextCronRun, parseCron, validateCron } from './cron.js';

describe('validateCron', () => {
  it.each([
    '0 3 * * *',
    '* * * * *',
    '*/15 * * * *',
    '0 */6 * * *',
    '0,30 * * * *',
    '0 0 1 1 *',
    '59 23 31 12 7',
    '0 0 * * 0',
    '0 9-17 * * 1-5',
    '0 9-17/2 * * 1-5',
    '5,10,15-20/5 0 1,15 * *',
    '0  3 * * *',
    '@hourly',
    '@daily',
    '@weekly',
    '@monthly',
    '@yearly',
    '@annually',
    '@midnight',
  ])('accepts %j', (expression) => {
    expect(validateCron(expression)).toBeUndefined();
  });

  it.each([
    ['', 'must be a cron schedule'],
    ['0 3 * *', 'must be a cron schedule'],
    ['0 3 * * * *', 'must be a cron schedule'],
    [' 0 3 * * *', 'must be a cron schedule'],
    ['0 3 * * * ', 'must be a cron schedule'],
    ['0\t3 * * *', 'must be a cron schedule'],
    ['@reboot', 'must be a cron schedule'],
    ['@DAILY', 'must be a cron schedule'],
    ['0 3 * JAN MON', 'must be a cron schedule'],
    ['0 3 * * *; rm -rf /', 'must be a cron schedule'],
    ['$(id) 3 * * *', 'must be a cron schedule'],
    ['60 * * * *', 'minute field: values must be from 0 to 59'],
    ['0 24 * * *', 'hour field: values must be from 0 to 23'],
    ['0 0 0 * *', 'day of month field: values must be from 1 to 31'],
    ['0 0 32 * *', 'day of month field: values must be from 1 to 31'],
    ['0 0 * 0 *', 'month field: values must be from 1 to 12'],
    ['0 0 * 13 *', 'month field: values must be from 1 to 12'],
    ['0 0 * * 8', 'day of week field: values must be from 0 to 7'],
    ['5-1 * * * *', 'minute field: a range must not run backwards'],
    ['*/0 * * * *', 'minute field: step must be a number from 1 to 59'],
    ['*/60 * * * *', 'minute field: step must be a number from 1 to 59'],
    ['5/15 * * * *', 'minute field: a step needs * or a range before it (like 0-59/15)'],
    ['1-2-3 * * * *', 'minute field: a range has exactly one "-"'],
    ['*/5/2 * * * *', 'minute field: at most one "/" per item'],
    ['1,,2 * * * *', 'minute field: items must be *, N, N-M, */S or N-M/S'],
    ['01 * * * *', 'minute field: items must be *, N, N-M, */S or N-M/S'],
    ['- * * * *', 'minute field: items must be *, N, N-M, */S or N-M/S'],
    ['** * * * *', 'minute field: items must be *, N, N-M, */S or N-M/S'],
    ['0 0 * * 1-', 'day of week field: items must be *, N, N-M, */S or N-M/S'],
    ['100 * * * *', 'minute field: items must be *, N, N-M, */S or N-M/S'],
  ])('refuses %j: %s', (expression, message) => {
    expect(validateCron(expression)).toContain(message);
  });
});

describe('lastCronRun (UTC)', () => {
  const at = (iso: string) => new Date(iso);
  it.each([
    ['0 3 * * *', '2026-11-29T03:00:00Z', '2026-11-29T03:00:00.000Z'],
    ['0 3 * * *', '2026-11-29T02:59:59Z', '2026-11-28T03:00:00.000Z'],
    ['*/15 * * * *', '2026-11-29T10:44:00Z', '2026-11-29T10:30:00.000Z'],
    ['0-59/20 9-17 * * 1-5', '2026-11-29T12:00:00Z', '2026-11-27T17:40:00.000Z'], // Sunday -> Friday
    ['@hourly', '2026-11-29T10:59:00Z', '2026-11-29T10:00:00.000Z'],
    ['@weekly', '2026-11-28T12:00:00Z', '2026-11-22T00:00:00.000Z'],
    ['@monthly', '2026-11-29T12:00:00Z', '2026-11-01T00:00:00.000Z'],
    ['@yearly', '2026-11-29T12:00:00Z', '2026-01-01T00:00:00.000Z'],
    ['0 0 13 * 5', '2026-11-29T12:00:00Z', '2026-11-27T00:00:00.000Z'], // either day field matches (a Friday)
    ['0 0 * * 7', '2026-11-29T12:00:00Z', '2026-11-29T00:00:00.000Z'], // 7 is Sunday
  ])('%s at %s -> %s', (expression, now, expected) => {
    expect(lastCronRun(expression, at(now))?.toISOString()).toBe(expected);
  });

  it('finds nothing outside the window', () => {
    expect(lastCronRun('0 0 29 2 *', at('2026-11-29T00:00:00Z'), 30)).toBeUndefined();
  });

  it('refuses an invalid expression', () => {
    expect(() => parseCron('61 * * * *')).toThrow(/invalid cron schedule/);
  });
});

describe('nextCronRun (UTC)', () => {
  const at = (iso: string) => new Date(iso);
  it.each([
    ['0 3 * * *', '2026-11-29T03:00:00Z', '2026-11-30T03:00:00.000Z'], // strictly after now
    ['0 3 * * *', '2026-11-29T02:59:59.999Z', '2026-11-29T03:00:00.000Z'],
    ['*/15 * * * *', '2026-11-29T10:44:00Z', '2026-11-29T10:45:00.000Z'],
    ['0-59/20 9-17 * * 1-5', '2026-11-27T17:40:00Z', '2026-11-30T09:00:00.000Z'], // Friday evening -> Monday
    ['@hourly', '2026-11-29T10:59:00Z', '2026-11-29T11:00:00.000Z'],
    ['@daily', '2026-11-29T10:59:00Z', '2026-11-30T00:00:00.000Z'],
    ['@midnight', '2026-11-29T00:00:00Z', '2026-11-30T00:00:00.000Z'],
    ['@weekly', '2026-11-28T12:00:00Z', '2026-11-29T00:00:00.000Z'],
    ['@monthly', '2026-11-29T12:00:00Z', '2026-12-01T00:00:00.000Z'],
    ['@yearly', '2026-11-29T12:00:00Z', '2027-01-01T00:00:00.000Z'],
    ['@annually', '2026-12-31T23:59:59Z', '2027-01-01T00:00:00.000Z'],
    ['0 0 13 * 5', '2026-11-27T00:00:00Z', '2026-12-04T00:00:00.000Z'], // either day field matches (a Friday)
    ['0 0 13 * 5', '2026-12-04T00:00:00Z', '2026-12-11T00:00:00.000Z'], // Friday the 11th before the 13th (a Sunday)
    ['0 0 */2 * 1', '2026-11-29T12:00:00Z', '2026-11-30T00:00:00.000Z'], // a stepped day of month is restricted: OR (Monday 30th)
    ['0 0 * * 7', '2026-11-29T12:00:00Z', '2026-12-06T00:00:00.000Z'], // 7 is Sunday
    ['0 0 31 * *', '2026-11-29T12:00:00Z', '2026-12-31T00:00:00.000Z'], // November has no 31st
    ['0 0 29 2 *', '2027-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'], // leap day
    ['59 23 31 12 *', '2026-12-31T23:59:00Z', '2027-12-31T23:59:00.000Z'],
  ])('%s after %s -> %s', (expression, now, expected) => {
    expect(nextCronRun(expression, at(now))?.toISOString()).toBe(expected);
  });

  it('finds nothing outside the window, or for a day that never comes', () => {
    expect(nextCronRun('0 0 29 2 *', at('2026-11-29T00:00:00Z'), 30)).toBeUndefined();
    expect(nextCronRun('0 0 30 2 *', at('2026-11-29T00:00:00Z'))).toBeUndefined();
  });

  it('refuses an invalid expression', () => {
    expect(() => nextCronRun('0 0 * * 8', at('2026-11-29T00:00:00Z'))).toThrow(/invalid cron schedule/);
  });

  it('answers at once for a day that never comes, once it knows', () => {
    for (const expression of ['0 0 31 2 *', '0 0 31 4,6 *']) {
      expect(nextCronRun(expression, at('2026-11-29T00:00:00Z'))).toBeUndefined();
      const started = performance.now();
      for (let i = 0; i < 300; i++) {
        expect(nextCronRun(expression, at('2026-11-29T00:00:00Z'))).toBeUndefined();
        expect(lastCronRun(expression, at('2026-11-29T00:00:00Z'))).toBeUndefined();
      }
      // Searching each time would take seconds (milliseconds a call); remembered, it takes none.
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it('still finds a run that the window missed once it comes into the window', () => {
    expect(nextCronRun('0 0 29 2 *', at('2026-11-29T00:00:00Z'), 30)).toBeUndefined();
    expect(nextCronRun('0 0 29 2 *', at('2028-02-01T00:00:00Z'), 30)?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
});
