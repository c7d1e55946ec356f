import { describe, expect, it } from 'vitest';
import { type Condition } from './conditions.js';
import { applyNodeServices, applyServiceRestarts, applySiteHealth, siteHealthOf, siteReady, type NodeServiceSample, type ServiceRestarts, type SiteHealthSample } from './site-health.js';
import { siteStatusSchema, type SiteHealthStatus, type SiteStatus } from './site.js';
import { type SitePhase } from './site-lifecycle.js';

const T0 = '2026-03-01T10:00:00.000Z';
const T1 = '2026-03-01T10:00:30.000Z';
const NOW = new Date('2026-03-01T10:00:31.000Z');

const cond = (type: string, status: Condition['status'], reason: string, message = 'm'): Condition => ({ type, status, reason, message, lastTransitionTime: T0 });
const READY = cond('Ready', 'True', 'Converged', 'the site matches its spec');
const NOT_SERVING_500 = cond('Ready', 'False', 'NotServing', 'on node n1: GET / answered 500');
const FAILED_READY = cond('Ready', 'False', 'HealthCheckFailed', 'Site shop: DeploySite failed');

const sample = (over: Partial<SiteHealthSample> = {}): SiteHealthSample => ({
  state: 'SERVING',
  reason: '',
  message: '',
  httpStatus: 200,
  processUp: true,
  restarts: 0,
  crashLooping: false,
  lastExit: '',
  ...over,
});
const DOWN_500: Partial<SiteHealthSample> = { state: 'NOT_SERVING', reason: 'HttpStatus', message: 'GET / answered 500', httpStatus: 500 };
const NGINX_DOWN: Partial<SiteHealthSample> = { state: 'NOT_SERVING', reason: 'NodeServiceDown', message: 'nginx on the node is down: connect ECONNREFUSED', httpStatus: 0 };

function status(phase: SitePhase, conditions: Condition[], health?: Partial<SiteHealthSample>, at = T0): SiteStatus {
  return siteStatusSchema.parse({ phase, nodeName: 'n1', conditions, ...(health ? { health: siteHealthOf(sample(health), at) } : {}) });
}

const brief = (c: Condition | undefined) => (c ? [c.status, c.reason, c.message] : undefined);

describe('applySiteHealth', () => {
  type Row = [string, SiteStatus, Partial<SiteHealthSample>, { ready?: unknown; crashLooping?: unknown; events: string[] } | 'no write'];
  const rows: Row[] = [
    ['SERVING on a Ready site with no stored health stores it, no event', status('ACTIVE', [READY]), {}, { ready: ['True', 'Converged', 'the site matches its spec'], events: [] }],
    ['the same SERVING again writes nothing', status('ACTIVE', [READY], {}), {}, 'no write'],
    ['NOT_SERVING with a 500 makes an ACTIVE site NotServing', status('ACTIVE', [READY], {}), DOWN_500, { ready: ['False', 'NotServing', 'on node n1: GET / answered 500'], events: ['Warning NotServing on node n1: GET / answered 500'] }],
    ['NOT_SERVING because nginx is down names it', status('ACTIVE', [READY], {}), NGINX_DOWN, { ready: ['False', 'NotServing', 'on node n1: nginx on the node is down: connect ECONNREFUSED'], events: ['Warning NotServing on node n1: nginx on the node is down: connect ECONNREFUSED'] }],
    ['NOT_SERVING without a message names the HTTP code', status('ACTIVE', [READY]), { ...DOWN_500, message: '' }, { ready: ['False', 'NotServing', 'on node n1: GET / answered 500'], events: ['Warning NotServing on node n1: GET / answered 500'] }],
    ['NOT_SERVING without message or code names the reason', status('ACTIVE', [READY]), { state: 'NOT_SERVING', reason: 'Unreachable', httpStatus: 0 }, { ready: ['False', 'NotServing', 'on node n1: Unreachable'], events: ['Warning NotServing on node n1: Unreachable'] }],
    ['the same NOT_SERVING again writes nothing', status('ACTIVE', [NOT_SERVING_500], DOWN_500), DOWN_500, 'no write'],
    ['another cause while NotServing updates the message without a second event', status('ACTIVE', [NOT_SERVING_500], DOWN_500), NGINX_DOWN, { ready: ['False', 'NotServing', 'on node n1: nginx on the node is down: connect ECONNREFUSED'], events: [] }],
    ['SERVING after NotServing: Ready again (Serving) with a Normal event', status('ACTIVE', [NOT_SERVING_500], DOWN_500), {}, { ready: ['True', 'Serving', 'serving on node n1'], events: ['Normal Serving the site serves again on node n1'] }],
    ['SERVING leaves a Ready False of a failed command alone', status('ACTIVE', [FAILED_READY], DOWN_500), {}, { ready: brief(FAILED_READY), events: [] }],
    ['UNKNOWN keeps NotServing (a command is at work)', status('ACTIVE', [NOT_SERVING_500], DOWN_500), { state: 'UNKNOWN', httpStatus: 0 }, { ready: brief(NOT_SERVING_500), events: [] }],
    ['UNKNOWN keeps Ready True', status('ACTIVE', [READY], {}), { state: 'UNKNOWN', httpStatus: 0 }, { ready: brief(READY), events: [] }],
    ['an unknown state counts as UNKNOWN', status('ACTIVE', [READY], {}), { state: 'MAYBE', httpStatus: 0 }, { ready: brief(READY), events: [] }],
    ['NOT_SERVING on a DEPLOYING site is stored but sets no condition', status('DEPLOYING', [READY], {}), DOWN_500, { ready: brief(READY), events: [] }],
    ['NOT_SERVING on a FAILED site leaves its Ready alone', status('FAILED', [FAILED_READY], {}), DOWN_500, { ready: brief(FAILED_READY), events: [] }],
    ['NOT_SERVING on an ACTIVE site without any Ready yet sets it', status('ACTIVE', []), DOWN_500, { ready: ['False', 'NotServing', 'on node n1: GET / answered 500'], events: ['Warning NotServing on node n1: GET / answered 500'] }],
    ['SERVING on a site without Ready adds none', status('ACTIVE', []), {}, { ready: undefined, events: [] }],
    [
      'a restart (count up) is a Warning with how it ended',
      status('ACTIVE', [READY], { restarts: 2 }),
      { restarts: 3, lastExit: 'killed by SIGKILL' },
      { ready: brief(READY), events: ['Warning Restarted PHP-FPM master of the site restarted by the agent on n1 (killed by SIGKILL; restart 3)'] },
    ],
    ['a restart without a known exit', status('ACTIVE', [READY], {}), { restarts: 1 }, { ready: brief(READY), events: ['Warning Restarted PHP-FPM master of the site restarted by the agent on n1 (restart 1)'] }],
    ['a lower count (the agent restarted) is stored without an event', status('ACTIVE', [READY], { restarts: 5 }), { restarts: 0 }, { ready: brief(READY), events: [] }],
    [
      'a crash loop: CrashLooping True, NotServing, restarted, three events',
      status('ACTIVE', [READY], { restarts: 4 }),
      { state: 'NOT_SERVING', reason: 'ProcessDown', message: 'PHP-FPM master is not running', httpStatus: 502, processUp: false, restarts: 5, crashLooping: true, lastExit: 'exit code 255' },
      {
        ready: ['False', 'NotServing', 'on node n1: PHP-FPM master is not running'],
        crashLooping: ['True', 'CrashLoopBackOff', 'PHP-FPM master of the site on node n1 keeps exiting (last exit: exit code 255; 5 restarts): the agent restarts it after a growing backoff'],
        events: [
          'Warning NotServing on node n1: PHP-FPM master is not running',
          'Warning CrashLooping PHP-FPM master of the site on node n1 keeps exiting (last exit: exit code 255; 5 restarts): the agent restarts it after a growing backoff',
          'Warning Restarted PHP-FPM master of the site restarted by the agent on n1 (exit code 255; restart 5)',
        ],
      },
    ],
    [
      'the crash loop ends: CrashLooping False (Stable) and Serving again',
      status('ACTIVE', [NOT_SERVING_500, cond('CrashLooping', 'True', 'CrashLoopBackOff')], { ...DOWN_500, restarts: 6, crashLooping: true }),
      { restarts: 6 },
      { ready: ['True', 'Serving', 'serving on node n1'], crashLooping: ['False', 'Stable', 'PHP-FPM master of the site on node n1 runs stable again'], events: ['Normal Serving the site serves again on node n1', 'Normal Stable PHP-FPM master of the site on node n1 runs stable again'] },
    ],
    ['a site that never crash-looped gets no CrashLooping condition', status('ACTIVE', [READY], {}), { restarts: 1 }, { crashLooping: undefined, ready: brief(READY), events: ['Warning Restarted PHP-FPM master of the site restarted by the agent on n1 (restart 1)'] }],
    ['a crash loop on a DEPLOYING site still shows (it is the process, not the probe)', status('DEPLOYING', [], {}), { state: 'UNKNOWN', crashLooping: true, restarts: 1, processUp: false }, { crashLooping: ['True', 'CrashLoopBackOff', 'PHP-FPM master of the site on node n1 keeps exiting (1 restarts): the agent restarts it after a growing backoff'], events: ['Warning CrashLooping PHP-FPM master of the site on node n1 keeps exiting (1 restarts): the agent restarts it after a growing backoff', 'Warning Restarted PHP-FPM master of the site restarted by the agent on n1 (restart 1)'] }],
  ];

  it.each(rows)('%s', (_name, before, given, expected) => {
    const result = applySiteHealth(before, 'n1', siteHealthOf(sample(given), T1), NOW);
    if (expected === 'no write') {
      expect(result).toBeUndefined();
      return;
    }
    expect(result).toBeDefined();
    const conditions = result!.status.conditions;
    if ('ready' in expected) expect(brief(conditions.find((c) => c.type === 'Ready'))).toEqual(expected.ready);
    if ('crashLooping' in expected) expect(brief(conditions.find((c) => c.type === 'CrashLooping'))).toEqual(expected.crashLooping);
    expect(result!.events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual(expected.events);
    expect(result!.status.health).toEqual(siteHealthOf(sample(given), T1));
    // Whatever it writes is a valid status (strict and bounded).
    expect(siteStatusSchema.parse(result!.status)).toEqual(result!.status);
  });

  it('skips a snapshot older than the stored one', () => {
    const before = status('ACTIVE', [READY], {}, T1);
    expect(applySiteHealth(before, 'n1', siteHealthOf(sample(DOWN_500), T0), NOW)).toBeUndefined();
  });

  it('applies a snapshot taken at the same time as the stored one (a redelivery changes nothing)', () => {
    const before = status('ACTIVE', [READY], {}, T1);
    expect(applySiteHealth(before, 'n1', siteHealthOf(sample(), T1), NOW)).toBeUndefined();
    expect(applySiteHealth(before, 'n1', siteHealthOf(sample(DOWN_500), T1), NOW)?.status.health?.state).toBe('NOT_SERVING');
  });

  it('moves lastTransitionTime only when a condition changes status', () => {
    const before = status('ACTIVE', [NOT_SERVING_500], DOWN_500);
    const after = applySiteHealth(before, 'n1', siteHealthOf(sample(NGINX_DOWN), T1), NOW)!;
    expect(after.status.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(T0);
    const healed = applySiteHealth(after.status, 'n1', siteHealthOf(sample(), T1), NOW)!;
    expect(healed.status.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(NOW.toISOString());
  });
});

describe('siteHealthOf', () => {
  const BASE = { processUp: true, restarts: 0, crashLooping: false, observedAt: T0 };
  const rows: Array<[string, Partial<SiteHealthSample>, SiteHealthStatus]> = [
    ['keeps what transitions are about', { ...DOWN_500, restarts: 2, lastExit: 'killed by SIGKILL' }, { ...BASE, state: 'NOT_SERVING', reason: 'HttpStatus', message: 'GET / answered 500', httpStatus: 500, restarts: 2, lastExit: 'killed by SIGKILL' }],
    ['drops an HTTP status of 0 (no answer) and empty text', { state: 'NOT_SERVING', httpStatus: 0 }, { ...BASE, state: 'NOT_SERVING' }],
    ['drops a reason that is not CamelCase', { state: 'NOT_SERVING', reason: 'rm -rf', httpStatus: 0 }, { ...BASE, state: 'NOT_SERVING' }],
    ['replaces control characters and bounds the message', { message: `a\u0000b\u001b[31m${'x'.repeat(400)}` }, { ...BASE, state: 'SERVING', httpStatus: 200, message: `a b [31m${'x'.repeat(248)}` }],
    ['never cuts a surrogate pair in half', { message: `${'x'.repeat(255)}\u{1F600}` }, { ...BASE, state: 'SERVING', httpStatus: 200, message: 'x'.repeat(255) }],
    ['bounds the restarts', { restarts: -4 }, { ...BASE, state: 'SERVING', httpStatus: 200 }],
    ['an unknown state is UNKNOWN', { state: 'ON_FIRE', httpStatus: 999 }, { ...BASE, state: 'UNKNOWN' }],
  ];
  it.each(rows)('%s', (_name, given, expected) => {
    expect(siteHealthOf(sample(given), T0)).toEqual(expected);
  });
});

describe('siteReady (the one rule for Ready, used by the reconciler and the health ingest)', () => {
  const CONVERGED = { type: 'Ready', status: 'True', reason: 'Converged', message: 'the site matches its spec' } as const;
  const DEPLOYED = { type: 'Ready', status: 'True', reason: 'Deployed', message: 'Site shop: DeploySite succeeded' } as const;
  const FAILED = { type: 'Ready', status: 'False', reason: 'HealthCheckFailed', message: 'failed' } as const;
  const SERVING_READY = cond('Ready', 'True', 'Serving', 'serving on node n1');
  type Row = [string, SiteStatus, Parameters<typeof siteReady>[1], unknown];
  const rows: Row[] = [
    ['a command that succeeded makes a serving site Ready', status('ACTIVE', [], {}), DEPLOYED, DEPLOYED],
    ['a command that succeeded leaves a NOT_SERVING site NotServing', status('ACTIVE', [NOT_SERVING_500], DOWN_500), DEPLOYED, { type: 'Ready', ...{ status: 'False', reason: 'NotServing', message: 'on node n1: GET / answered 500' } }],
    ['the converged pass leaves NotServing too', status('ACTIVE', [NOT_SERVING_500], DOWN_500), CONVERGED, { type: 'Ready', status: 'False', reason: 'NotServing', message: 'on node n1: GET / answered 500' }],
    ['the converged pass does not rewrite Serving', status('ACTIVE', [SERVING_READY], {}), CONVERGED, { type: 'Ready', status: 'True', reason: 'Serving', message: 'serving on node n1' }],
    ['a succeeded command does not rewrite Serving either', status('ACTIVE', [SERVING_READY], {}), DEPLOYED, { type: 'Ready', status: 'True', reason: 'Serving', message: 'serving on node n1' }],
    ['a failed command is not Ready whatever the health', status('FAILED', [], {}), FAILED, FAILED],
    ['unknown health: the proposal stands', status('ACTIVE', [], { state: 'UNKNOWN' }), CONVERGED, CONVERGED],
    ['no health stored yet: the proposal stands', status('ACTIVE', []), CONVERGED, CONVERGED],
    ['no proposal and nothing to say: no Ready', status('ACTIVE', [], {}), undefined, undefined],
  ];
  it.each(rows)('%s', (_name, given, proposed, expected) => {
    expect(siteReady(given, proposed)).toEqual(expected);
  });
});

describe('applyNodeServices', () => {
  const svc = (name: string, up: boolean, over: Partial<NodeServiceSample> = {}): NodeServiceSample => ({ name, up, message: '', restarts: 0, crashLooping: false, ...over });
  const NODE_READY = cond('Ready', 'True', 'HeartbeatReceived');
  const NGINX_OK = cond('NginxReady', 'True', 'Running', 'nginx runs on node n1');
  const MARIADB_OK = cond('MariaDBReady', 'True', 'Running', 'mariadb runs on node n1');
  const REDIS_OK = cond('RedisReady', 'True', 'Running', 'redis runs on node n1');
  const NGINX_DOWN_C = cond('NginxReady', 'False', 'ServiceDown', 'nginx on node n1 is down: inactive');
  const view = (conditions: Condition[]) => conditions.map((c) => `${c.type}=${c.status}/${c.reason}: ${c.message}`);

  type Row = [string, Condition[], NodeServiceSample[], { conditions: string[]; events: string[] } | 'no write'];
  const rows: Row[] = [
    [
      'first snapshot: one condition per service, no events',
      [NODE_READY],
      [svc('nginx', true), svc('mariadb', true), svc('redis', true)],
      { conditions: ['Ready=True/HeartbeatReceived: m', 'NginxReady=True/Running: nginx runs on node n1', 'MariaDBReady=True/Running: mariadb runs on node n1', 'RedisReady=True/Running: redis runs on node n1'], events: [] },
    ],
    ['the same again writes nothing', [NODE_READY, NGINX_OK, MARIADB_OK], [svc('nginx', true), svc('mariadb', true, { restarts: 3 })], 'no write'],
    [
      'a service goes down: False ServiceDown with the message, Warning event; Ready untouched',
      [NODE_READY, NGINX_OK, MARIADB_OK],
      [svc('nginx', false, { message: 'inactive' }), svc('mariadb', true)],
      { conditions: ['Ready=True/HeartbeatReceived: m', 'NginxReady=False/ServiceDown: nginx on node n1 is down: inactive', 'MariaDBReady=True/Running: mariadb runs on node n1'], events: ['Warning ServiceDown nginx on node n1 is down: inactive'] },
    ],
    [
      'a service that keeps failing: CrashLoopBackOff, no second event',
      [NGINX_DOWN_C, MARIADB_OK],
      [svc('nginx', false, { message: 'inactive', crashLooping: true, restarts: 5 }), svc('mariadb', true)],
      { conditions: ['NginxReady=False/CrashLoopBackOff: nginx on node n1 is down: inactive', 'MariaDBReady=True/Running: mariadb runs on node n1'], events: [] },
    ],
    [
      'a service is back: True Running, Normal ServiceRecovered',
      [NGINX_DOWN_C, MARIADB_OK],
      [svc('nginx', true), svc('mariadb', true)],
      { conditions: ['NginxReady=True/Running: nginx runs on node n1', 'MariaDBReady=True/Running: mariadb runs on node n1'], events: ['Normal ServiceRecovered nginx on node n1 runs again'] },
    ],
    [
      'a service down in the first snapshot is a Warning',
      [],
      [svc('mariadb', false, { message: 'connect ECONNREFUSED' })],
      { conditions: ['MariaDBReady=False/ServiceDown: mariadb on node n1 is down: connect ECONNREFUSED'], events: ['Warning ServiceDown mariadb on node n1 is down: connect ECONNREFUSED'] },
    ],
    ['a node without redis has no RedisReady', [], [svc('nginx', true)], { conditions: ['NginxReady=True/Running: nginx runs on node n1'], events: [] }],
    ['a service no longer listed loses its condition', [NGINX_OK, REDIS_OK], [svc('nginx', true)], { conditions: ['NginxReady=True/Running: nginx runs on node n1'], events: [] }],
    ['an unknown service name is no condition', [NGINX_OK], [svc('nginx', true), svc('postfix', false)], 'no write'],
    ['a service listed twice counts once', [], [svc('nginx', true), svc('nginx', false)], { conditions: ['NginxReady=True/Running: nginx runs on node n1'], events: [] }],
  ];
  it.each(rows)('%s', (_name, before, services, expected) => {
    const result = applyNodeServices(before, 'n1', services, NOW);
    if (expected === 'no write') {
      expect(result).toBeUndefined();
      return;
    }
    expect(view(result!.conditions)).toEqual(expected.conditions);
    expect(result!.events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual(expected.events);
  });
});

describe('applyServiceRestarts', () => {
  const svc = (name: string, up: boolean, restarts: number, message = ''): NodeServiceSample => ({ name, up, message, restarts, crashLooping: false });
  it.each<[string, ServiceRestarts | undefined, NodeServiceSample[], ServiceRestarts | 'no write', string[]]>([
    ['first snapshot, nothing restarted: counts stored, no event', undefined, [svc('nginx', true, 0), svc('mariadb', true, 0)], { nginx: 0, mariadb: 0 }, []],
    ['the same counts again: no write', { nginx: 0, mariadb: 0 }, [svc('nginx', true, 0), svc('mariadb', true, 0)], 'no write', []],
    ['nginx restarted: Warning with how it ended', { nginx: 0, mariadb: 0 }, [svc('nginx', true, 1, 'killed by SIGKILL'), svc('mariadb', true, 0)], { nginx: 1, mariadb: 0 }, ['Warning Restarted nginx on node n1 restarted by the agent (killed by SIGKILL; restart 1)']],
    ['restarted but down again: no exit named (the message is why it is down)', { redis: 1 }, [svc('redis', false, 2, 'connect ENOENT')], { redis: 2 }, ['Warning Restarted redis on node n1 restarted by the agent (restart 2)']],
    ['a lower count (the agent restarted): stored, no event', { nginx: 4 }, [svc('nginx', true, 0)], { nginx: 0 }, []],
    ['a first snapshot already counting restarts: events', undefined, [svc('nginx', true, 2, 'exited (seen gone)')], { nginx: 2 }, ['Warning Restarted nginx on node n1 restarted by the agent (exited (seen gone); restart 2)']],
    ['unknown services and repeats do not count', { nginx: 0 }, [svc('nginx', true, 0), svc('postfix', true, 9), svc('nginx', true, 7)], 'no write', []],
    ['a service gone from the snapshot drops its count', { nginx: 0, redis: 3 }, [svc('nginx', true, 0)], { nginx: 0 }, []],
  ])('%s', (_name, stored, services, expected, events) => {
    const result = applyServiceRestarts(stored, 'n1', services);
    if (expected === 'no write') {
      expect(result).toBeUndefined();
      return;
    }
    expect(result?.restarts).toEqual(expected);
    expect(result?.events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual(events);
  });
});
