import { describe, expect, it } from 'vitest';
import { orphans, parentOf } from './process-tree.js';

describe('parentOf', () => {
  it.each([
    ['a plain command', '4242 (git) S 4200 4242 4200 0 -1', 4200],
    ['a name with spaces and parentheses', '77 (evil ) S 1 (x) R 9) S 31 77 31 0 -1', 31],
    ['a truncated line', '5 (x)', undefined],
  ] as const)('%s', (_, stat, parent) => {
    expect(parentOf(stat)).toBe(parent);
  });
});

describe('orphans', () => {
  const isWorker = (cmdline: string) => /^nginx: (worker|cache manager) process/.test(cmdline);
  const isMaster = (cmdline: string) => cmdline.startsWith('nginx: master process');
  it.each<[string, Array<[number, string, number]>, number[]]>([
    ['workers of a live master are not orphans', [[10, 'nginx: master process /usr/sbin/nginx', 1], [11, 'nginx: worker process', 10], [12, 'nginx: cache manager process', 10]], []],
    ['workers of a dead master are', [[11, 'nginx: worker process', 1], [12, 'nginx: worker process', 1]], [11, 12]],
    ['a new master beside the old workers', [[20, 'nginx: master process /usr/sbin/nginx', 1], [21, 'nginx: worker process', 20], [11, 'nginx: worker process', 1]], [11]],
    ['a worker below a subreaper that is no master', [[5, 'systemd --user', 1], [11, 'nginx: worker process', 5]], [11]],
    ['other processes are never orphans', [[30, 'php-fpm: pool site_x', 1], [31, 'bash', 1]], []],
  ])('%s', (_, rows, expected) => {
    const snapshot = new Map(rows.map(([pid, cmdline, parent]) => [pid, { cmdline, parent }]));
    expect(orphans(snapshot, isWorker, isMaster).sort()).toEqual(expected);
  });
});
