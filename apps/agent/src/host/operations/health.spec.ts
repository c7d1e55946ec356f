import { INITIAL_SUPERVISED_STATE, type SupervisedState } from '@pressluft/domain';
import { describe, expect, it } from 'vitest';
import { servingStatus, siteHealthOf } from './health.js';

const up = { nginx: { up: true, message: '' }, backends: [['mariadb', { up: true, message: '' }]] as const };
const running = { up: true, supervision: INITIAL_SUPERVISED_STATE };
const looping: SupervisedState = { ...INITIAL_SUPERVISED_STATE, restarts: 4, streak: 4, crashLooping: true, lastExit: 'killed by SIGKILL', downSince: 1 };

describe('servingStatus', () => {
  it.each([
    [200, true],
    [204, true],
    [301, true],
    [302, true],
    [399, true],
    [400, false],
    [403, false],
    [404, false],
    [500, false],
    [502, false],
    [503, false],
    [199, false],
    [0, false],
  ])('HTTP %i serving: %s', (status, serving) => {
    expect(servingStatus(status)).toBe(serving);
  });
});

describe('siteHealthOf', () => {
  it.each([
    ['answers 200', up, running, { status: 200, seconds: 0.05 }, { state: 'SERVING', reason: '', httpStatus: 200, message: 'GET / answered 200' }],
    ['redirects (canonical host)', up, running, { status: 301, seconds: 0.02 }, { state: 'SERVING', httpStatus: 301 }],
    ['answers 500', up, running, { status: 500, seconds: 0.1 }, { state: 'NOT_SERVING', reason: 'HttpStatus', httpStatus: 500, message: 'GET / answered 500' }],
    ['answers 502 (a pool that does not answer nginx)', up, running, { status: 502, seconds: 0.01 }, { state: 'NOT_SERVING', reason: 'HttpStatus', httpStatus: 502 }],
    ['no answer', up, running, { error: 'GET http://a.example.test/ via 127.0.0.1:80: no answer within 5000 ms', seconds: 5 }, { state: 'NOT_SERVING', reason: 'Unreachable', httpStatus: 0, message: 'GET / got no answer: GET http://a.example.test/ via 127.0.0.1:80: no answer within 5000 ms' }],
    ['nginx down wins over everything', { nginx: { up: false, message: 'connect ECONNREFUSED 127.0.0.1:80' }, backends: [] }, { up: false, supervision: looping }, undefined, { state: 'NOT_SERVING', reason: 'NodeServiceDown', message: 'nginx on the node is down: connect ECONNREFUSED 127.0.0.1:80' }],
    ['master down', up, { up: false, supervision: { ...INITIAL_SUPERVISED_STATE, lastExit: 'killed by SIGKILL', downSince: 1 } }, undefined, { state: 'NOT_SERVING', reason: 'ProcessDown', message: "the site's PHP-FPM master is not running (killed by SIGKILL)", processUp: false }],
    ['master down in a crash loop', up, { up: false, supervision: looping }, undefined, { state: 'NOT_SERVING', reason: 'ProcessDown', crashLooping: true, restarts: 4, message: "the site's PHP-FPM master is not running (killed by SIGKILL); crash loop after 4 restarts, restarting with backoff" }],
    ['master never started', up, { up: false, supervision: INITIAL_SUPERVISED_STATE }, undefined, { state: 'NOT_SERVING', reason: 'ProcessDown', message: "the site's PHP-FPM master is not running (not started)" }],
    ['no release to probe', up, running, undefined, { state: 'UNKNOWN', reason: '' }],
    ['500 while MariaDB is down: the node is at fault', { ...up, backends: [['mariadb', { up: false, message: 'connect ENOENT /run/mysqld/mysqld.sock' }]] }, running, { status: 500, seconds: 0.2 }, { state: 'NOT_SERVING', reason: 'NodeServiceDown', httpStatus: 500, message: 'mariadb on the node is down: connect ENOENT /run/mysqld/mysqld.sock (GET / answered 500)' }],
    ['no answer while Redis is down', { ...up, backends: [['mariadb', { up: true, message: '' }], ['redis', { up: false, message: 'no answer within 2000 ms' }]] }, running, { error: 'socket hang up', seconds: 1 }, { state: 'NOT_SERVING', reason: 'NodeServiceDown', message: 'redis on the node is down: no answer within 2000 ms (GET / got no answer: socket hang up)' }],
    ['200 while Redis is down (the cache degrades gracefully): serving', { ...up, backends: [['redis', { up: false, message: 'x' }]] }, running, { status: 200, seconds: 0.1 }, { state: 'SERVING' }],
    ['serving while in a crash loop (up between kills)', up, { up: true, supervision: looping }, { status: 200, seconds: 0.03 }, { state: 'SERVING', crashLooping: true, restarts: 4, lastExit: 'killed by SIGKILL' }],
  ] as const)('%s', (_, nginx, process, probe, expected) => {
    expect(siteHealthOf('blog', nginx, process, probe)).toMatchObject({ name: 'blog', ...expected });
  });

  it('carries the probe latency and the supervision counters', () => {
    expect(siteHealthOf('blog', up, { up: true, supervision: { ...INITIAL_SUPERVISED_STATE, restarts: 2, lastExit: 'exited with code 78' } }, { status: 200, seconds: 0.125 })).toEqual({
      name: 'blog',
      state: 'SERVING',
      reason: '',
      message: 'GET / answered 200',
      httpStatus: 200,
      probeSeconds: 0.125,
      processUp: true,
      restarts: 2,
      crashLooping: false,
      lastExit: 'exited with code 78',
    });
  });
});
