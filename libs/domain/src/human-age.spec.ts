import { describe, expect, it } from 'vitest';
import { humanAge } from './human-age.js';

const now = new Date('2026-06-01T12:00:00.000Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanAge (kubectl AGE)', () => {
  it.each([
    [-5 * S, '<invalid>'],
    [-1500, '0s'],
    [-1 * S, '0s'],
    [0, '0s'],
    [999, '0s'],
    [5 * S, '5s'],
    [59 * S, '59s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [3 * M + 20 * S, '3m20s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M + 30 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [2 * H + 5 * M + 200 * S, '128m'],
    [5 * H + 5 * M, '5h5m'],
    [7 * H + 59 * M, '7h59m'],
    [8 * H + 30 * M, '8h'],
    [47 * H, '47h'],
    [2 * D, '2d'],
    [4 * D + 3 * H, '4d3h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D + 5 * H, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [2 * 365 * D + 40 * D, '2y40d'],
    [8 * 365 * D, '8y'],
    [20 * 365 * D + 100 * D, '20y'],
  ])('%d ms old -> %s', (ms, text) => {
    expect(humanAge(ago(ms), now)).toBe(text);
  });

  it('says <unknown> for an invalid date', () => {
    expect(humanAge(new Date('not a date'), now)).toBe('<unknown>');
  });
});
