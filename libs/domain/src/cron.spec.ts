import { describe, expect, it } from 'vitest';
import { validateCron } from './cron.js';

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
