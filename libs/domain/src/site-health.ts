import { findCondition, setCondition, type Condition } from './conditions.js';
import { REASON_PATTERN } from './field-schemas.js';
import { SITE_HEALTH_STATES, type SiteHealthStatus, type SiteStatus } from './site.js';

/*
 * Sites heal themselves (issue 15): each node's agent supervises its sites' PHP-FPM masters and
 * probes every site through the node's nginx; it publishes a NodeHealth snapshot. These are the
 * control plane's rules for what a snapshot means to a Site (its Ready and CrashLooping
 * conditions, status.health, events) and to a Node (NginxReady, MariaDBReady, RedisReady).
 */

export const NOT_SERVING = 'NotServing';
export const SERVING = 'Serving';

/** One site of a NodeHealth snapshot, as the wire has it (agent.proto SiteHealth). */
export interface SiteHealthSample {
  state: string;
  reason: string;
  message: string;
  httpStatus: number;
  processUp: boolean;
  restarts: number;
  crashLooping: boolean;
  lastExit: string;
}

/** One node service of a snapshot (agent.proto NodeServiceHealth). */
export interface NodeServiceSample {
  name: string;
  up: boolean;
  message: string;
  restarts: number;
  crashLooping: boolean;
}

export interface HealthEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export type ConditionChange = Omit<Condition, 'lastTransitionTime'>;

type SiteReadyInput = Pick<SiteStatus, 'phase' | 'conditions' | 'nodeName' | 'health'>;

/**
 * Free text from a node: control characters become spaces, bounded (never cutting a surrogate
 * pair in half: PostgreSQL refuses a lone one); undefined when empty.
 */
function text(value: string, max: number): string | undefined {
  const clean = value.replace(/\p{Cc}/gu, ' ').trim().slice(0, max).replace(/[\uD800-\uDBFF]$/, '').trim();
  return clean === '' ? undefined : clean;
}

/**
 * The part of a sample that is stored in status.health: what transitions are about, bounded and
 * cleaned (an unknown state counts as UNKNOWN; a reason that is not CamelCase is dropped).
 */
export function siteHealthOf(sample: SiteHealthSample, observedAt: string): SiteHealthStatus {
  const state = (SITE_HEALTH_STATES as readonly string[]).includes(sample.state) ? (sample.state as SiteHealthStatus['state']) : 'UNKNOWN';
  const reason = sample.reason.length <= 64 && REASON_PATTERN.test(sample.reason) ? sample.reason : undefined;
  const message = text(sample.message, 256);
  const lastExit = text(sample.lastExit, 128);
  const httpStatus = Number.isInteger(sample.httpStatus) && sample.httpStatus >= 100 && sample.httpStatus <= 599 ? sample.httpStatus : undefined;
  return {
    state,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(httpStatus ? { httpStatus } : {}),
    processUp: sample.processUp,
    restarts: Math.min(1_000_000_000, Math.max(0, Math.floor(sample.restarts) || 0)),
    crashLooping: sample.crashLooping,
    ...(lastExit ? { lastExit } : {}),
    observedAt,
  };
}

/** The Ready condition of a site that does not serve on `node`. */
function notServing(node: string, health: SiteHealthStatus): ConditionChange {
  const cause = health.message ?? (health.httpStatus ? `GET / answered ${health.httpStatus}` : (health.reason ?? 'the probe failed'));
  return { type: 'Ready', status: 'False', reason: NOT_SERVING, message: `on node ${node}: ${cause}` };
}

/**
 * The one rule for a site's Ready condition, for both of its writers: the Site reconciler
 * (`proposed`: what the command path says, e.g. True after a successful command or when the
 * site is converged) and the health ingest (no proposal: keep what the site shows unless its
 * health says otherwise).
 * - An ACTIVE site whose node says NOT_SERVING is not Ready (reason NotServing), whatever the
 *   command path proposes.
 * - An ACTIVE site that was NotServing and now serves is Ready again (reason Serving); a Ready
 *   False for any other reason (a failed command) is left alone.
 * - A proposed True does not replace Serving (it says the same, and rewriting it would churn).
 * - UNKNOWN (not probed yet, a command at work) changes nothing; nor does health on a site that
 *   is not ACTIVE.
 * Undefined: no Ready to write.
 */
export function siteReady(status: SiteReadyInput, proposed: ConditionChange): ConditionChange;
export function siteReady(status: SiteReadyInput, proposed?: ConditionChange): ConditionChange | undefined;
export function siteReady(status: SiteReadyInput, proposed?: ConditionChange): ConditionChange | undefined {
  const current = findCondition(status.conditions, 'Ready');
  const health = status.health;
  if (status.phase === 'ACTIVE' && health?.state === 'NOT_SERVING') return notServing(status.nodeName ?? '(none)', health);
  if (proposed) {
    return proposed.status === 'True' && current?.status === 'True' && current.reason === SERVING ? strip(current) : proposed;
  }
  if (status.phase === 'ACTIVE' && health?.state === 'SERVING' && current?.status === 'False' && current.reason === NOT_SERVING) {
    return { type: 'Ready', status: 'True', reason: SERVING, message: `serving on node ${status.nodeName ?? '(none)'}` };
  }
  return current ? strip(current) : undefined;
}

function strip({ type, status, reason, message }: Condition): ConditionChange {
  return { type, status, reason, message };
}

function same(a: ConditionChange | undefined, b: ConditionChange | undefined): boolean {
  return a?.status === b?.status && a?.reason === b?.reason && a?.message === b?.message;
}

/** The same health but for when it was observed. */
function sameHealth(a: SiteHealthStatus | undefined, b: SiteHealthStatus): boolean {
  if (!a) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((key) => key !== 'observedAt'));
  return [...keys].every((key) => a[key as keyof SiteHealthStatus] === b[key as keyof SiteHealthStatus]);
}

/**
 * A site's status after a health sample from `node` (the node it is bound to), and the events
 * to record; undefined when the sample is older than what the site shows or changes nothing (a
 * periodic snapshot that says the same writes nothing).
 * - status.health is the sample (see siteHealthOf); Ready follows siteReady.
 * - CrashLooping=True (reason CrashLoopBackOff, Warning event CrashLooping) while the agent
 *   holds the PHP-FPM master back; False (reason Stable, Normal event Stable) when that ends.
 *   A site that never crash-looped has no CrashLooping condition.
 * - More restarts than stored: a Warning event Restarted. Fewer: the agent restarted and its
 *   counter began again; stored without an event.
 * - Ready False/NotServing: a Warning event NotServing when the site becomes so; back to
 *   Serving: a Normal event Serving.
 */
export function applySiteHealth(
  status: SiteStatus,
  node: string,
  health: SiteHealthStatus,
  now: Date,
): { status: SiteStatus; events: HealthEvent[] } | undefined {
  const stored = status.health;
  if (stored && Date.parse(health.observedAt) < Date.parse(stored.observedAt)) return undefined;
  const events: HealthEvent[] = [];
  let conditions = status.conditions;

  const currentReady = findCondition(conditions, 'Ready');
  const ready = siteReady({ ...status, health });
  if (ready && !same(ready, currentReady)) {
    conditions = setCondition(conditions, ready, now);
    if (ready.reason === NOT_SERVING && currentReady?.reason !== NOT_SERVING) events.push({ type: 'Warning', reason: NOT_SERVING, message: ready.message });
    if (ready.reason === SERVING) events.push({ type: 'Normal', reason: SERVING, message: `the site serves again on node ${node}` });
  }

  const looping = findCondition(conditions, 'CrashLooping');
  const exit = health.lastExit ? `last exit: ${health.lastExit}; ` : '';
  const loop: ConditionChange | undefined = health.crashLooping
    ? { type: 'CrashLooping', status: 'True', reason: 'CrashLoopBackOff', message: `PHP-FPM master of the site on node ${node} keeps exiting (${exit}${health.restarts} restarts): the agent restarts it after a growing backoff` }
    : looping?.status === 'True'
      ? { type: 'CrashLooping', status: 'False', reason: 'Stable', message: `PHP-FPM master of the site on node ${node} runs stable again` }
      : undefined;
  if (loop && !same(loop, looping)) {
    conditions = setCondition(conditions, loop, now);
    if (loop.status !== looping?.status) {
      events.push(loop.status === 'True' ? { type: 'Warning', reason: 'CrashLooping', message: loop.message } : { type: 'Normal', reason: 'Stable', message: loop.message });
    }
  }

  if (health.restarts > (stored?.restarts ?? 0)) {
    const how = health.lastExit ? `${health.lastExit}; ` : '';
    events.push({ type: 'Warning', reason: 'Restarted', message: `PHP-FPM master of the site restarted by the agent on ${node} (${how}restart ${health.restarts})` });
  }

  if (conditions === status.conditions && sameHealth(stored, health)) return undefined;
  return { status: { ...status, conditions, health }, events };
}

/** The Node condition for each service the agent checks; other names are not conditions. */
export const SERVICE_CONDITIONS: Readonly<Record<string, string>> = { nginx: 'NginxReady', mariadb: 'MariaDBReady', redis: 'RedisReady' };

/**
 * A Node's service conditions after a snapshot, and the events to record; undefined when nothing
 * changes. Up: True (reason Running). Down: False (reason CrashLoopBackOff while the agent holds
 * it back, else ServiceDown) with the agent's message. Warning ServiceDown when a service goes
 * down, Normal ServiceRecovered when it is back. A service the snapshot does not list (a node
 * without redis) has no condition. The Node's Ready condition is the heartbeat's and untouched.
 */
export function applyNodeServices(
  conditions: readonly Condition[],
  node: string,
  services: readonly NodeServiceSample[],
  now: Date,
): { conditions: Condition[]; events: HealthEvent[] } | undefined {
  const events: HealthEvent[] = [];
  let next = [...conditions];
  const listed = new Set<string>();
  for (const service of services) {
    const type = SERVICE_CONDITIONS[service.name];
    if (!type || listed.has(type)) continue;
    listed.add(type);
    const current = findCondition(next, type);
    const why = text(service.message, 256);
    const change: ConditionChange = service.up
      ? { type, status: 'True', reason: 'Running', message: `${service.name} runs on node ${node}` }
      : { type, status: 'False', reason: service.crashLooping ? 'CrashLoopBackOff' : 'ServiceDown', message: `${service.name} on node ${node} is down${why ? `: ${why}` : ''}` };
    if (same(change, current)) continue;
    next = setCondition(next, change, now);
    if (change.status === 'False' && current?.status !== 'False') events.push({ type: 'Warning', reason: 'ServiceDown', message: change.message });
    if (change.status === 'True' && current?.status === 'False') events.push({ type: 'Normal', reason: 'ServiceRecovered', message: `${service.name} on node ${node} runs again` });
  }
  const gone = new Set(Object.values(SERVICE_CONDITIONS).filter((type) => !listed.has(type)));
  if (next.some((c) => gone.has(c.type))) next = next.filter((c) => !gone.has(c.type));
  return next.length === conditions.length && next.every((c, i) => c === conditions[i]) ? undefined : { conditions: next, events };
}

export type ServiceRestarts = Partial<Record<'nginx' | 'mariadb' | 'redis', number>>;

/**
 * The restart counts of a Node's services after a snapshot, and a Warning event Restarted for each
 * count above the stored one ("nginx on node n1 restarted by the agent (killed by SIGKILL;
 * restart 2)"); a lower count (the agent restarted) is stored without one. Undefined when nothing
 * changes. Only the services of SERVICE_CONDITIONS count.
 */
export function applyServiceRestarts(stored: ServiceRestarts | undefined, node: string, services: readonly NodeServiceSample[]): { restarts: ServiceRestarts; events: HealthEvent[] } | undefined {
  const restarts: ServiceRestarts = {};
  const events: HealthEvent[] = [];
  for (const service of services) {
    const name = service.name as keyof ServiceRestarts;
    if (!SERVICE_CONDITIONS[name] || restarts[name] !== undefined) continue;
    const count = Math.min(1_000_000_000, Math.max(0, Math.floor(service.restarts) || 0));
    restarts[name] = count;
    if (count > (stored?.[name] ?? 0)) {
      // Up, the agent's message is how the service last ended.
      const exit = service.up ? text(service.message, 128) : undefined;
      const how = exit ? `${exit}; ` : '';
      events.push({ type: 'Warning', reason: 'Restarted', message: `${name} on node ${node} restarted by the agent (${how}restart ${count})` });
    }
  }
  const keys = (r: ServiceRestarts | undefined) => Object.entries(r ?? {}).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${String(v)}`).join(',');
  return keys(restarts) === keys(stored) ? undefined : { restarts, events };
}
