import { V1, type ApiObject } from './api-client.js';
import { UsageError } from './errors.js';

/** One API call as the commands make it: what the pure mapping from arguments produces. */
export interface ApiCall {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: Record<string, unknown>;
}

const NAME = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const API_VERSION = 'pressluft.io/v1';

/**
 * A name for a run the user did not name: `<base>-<UTC yyyymmddhhmmss>`, the base cut so the
 * whole fits the 40 characters of a name (and never ends in '-').
 */
export function runName(base: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${base.slice(0, 40 - stamp.length - 1).replace(/-+$/, '')}-${stamp}`;
}

function object(kind: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind, metadata: { name }, spec };
}

export function backupCall(site: string, name: string | undefined, now: Date): ApiCall {
  return { method: 'POST', path: `${V1}/backups`, body: object('Backup', name ?? runName(site, now), { site, reason: 'manual' }) };
}

export function restoreCall(backup: string, site: string | undefined, name: string | undefined, now: Date): ApiCall {
  return { method: 'POST', path: `${V1}/restores`, body: object('Restore', name ?? runName(`${site ?? backup}-restore`, now), { backup, ...(site ? { site } : {}) }) };
}

export function contentSyncCall(from: string, to: string, parts: readonly string[] | undefined, name: string | undefined, now: Date): ApiCall {
  return { method: 'POST', path: `${V1}/contentsyncs`, body: object('ContentSync', name ?? runName(`${to}-sync`, now), { from, to, ...(parts ? { parts } : {}) }) };
}

export function promotionCall(from: string, to: string, acknowledgeDrift: boolean, name: string | undefined, now: Date): ApiCall {
  return { method: 'POST', path: `${V1}/promotions`, body: object('Promotion', name ?? runName(`${to}-promote`, now), { from, to, ...(acknowledgeDrift ? { acknowledgeDrift } : {}) }) };
}

export function rollbackCall(site: string, release: string | undefined): ApiCall {
  return { method: 'POST', path: `${V1}/sites/${encodeURIComponent(site)}/rollback`, ...(release ? { body: { release } } : {}) };
}

/** What of the source's spec a clone keeps: how it runs, not where it answers or what it serves as. */
const CLONED_SPEC = ['wordpress', 'php', 'resources', 'code', 'drift', 'releases'] as const;

export interface CloneOptions {
  readonly domains: readonly string[];
  readonly environment: string;
  readonly node?: string;
}

/** A new Site made from the source's backup (spec.source.clone): domains and environment its own. */
export function cloneCall(source: ApiObject, name: string, options: CloneOptions): ApiCall {
  const from = source.spec ?? {};
  const spec: Record<string, unknown> = { environment: options.environment, domains: [...options.domains], source: { clone: { site: source.metadata.name } } };
  const node = options.node ?? from['nodeName'];
  if (typeof node === 'string') spec['nodeName'] = node;
  for (const key of CLONED_SPEC) if (from[key] !== undefined) spec[key] = from[key];
  const labels = source.metadata.labels;
  return { method: 'POST', path: `${V1}/sites`, body: { apiVersion: API_VERSION, kind: 'Site', metadata: { name, ...(labels ? { labels } : {}) }, spec } };
}

export function tokenCreateCall(subject: string, role: string): ApiCall {
  return { method: 'POST', path: '/auth/v1/tokens', body: { subject, role } };
}

export function joinTokenCreateCall(node: string, ttlSeconds: number | undefined): ApiCall {
  return { method: 'POST', path: '/auth/v1/jointokens', body: { node, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) } };
}

export function revokeCall(kind: 'tokens' | 'jointokens', id: string): ApiCall {
  return { method: 'DELETE', path: `/auth/v1/${kind}/${encodeURIComponent(id)}` };
}

/** `logs` takes a command's name or `site/<name>`. */
export function parseLogsTarget(target: string): { kind: 'command' | 'site'; name: string } {
  const [head, rest, extra] = target.split('/');
  const site = rest !== undefined && (head === 'site' || head === 'sites');
  const name = site ? rest : head;
  if (extra !== undefined || (rest !== undefined && !site) || !name || !NAME.test(name)) {
    throw new UsageError(`"${target}" is neither a command name nor site/<name>`);
  }
  return { kind: site ? 'site' : 'command', name };
}

/** `wait` takes `<kind>/<name>` of a kind with conditions (sites, nodes). */
export function parseWaitTarget(target: string): { plural: 'sites' | 'nodes'; name: string } {
  const match = /^(site|sites|node|nodes)\/(.+)$/.exec(target);
  if (!match?.[1] || !match[2] || !NAME.test(match[2])) throw new UsageError(`"${target}" must be site/<name> or node/<name>`);
  return { plural: match[1].startsWith('site') ? 'sites' : 'nodes', name: match[2] };
}

/** `--for=condition=Ready` (status True) or `--for=condition=Drifted=False`. */
export function parseWaitFor(value: string): { type: string; status: 'True' | 'False' | 'Unknown' } {
  const match = /^condition=([A-Za-z][A-Za-z0-9]*)(?:=(true|false|unknown))?$/i.exec(value);
  if (!match?.[1]) throw new UsageError(`--for must be condition=<Type> or condition=<Type>=<True|False|Unknown>, not "${value}"`);
  const status = (match[2] ?? 'True').toLowerCase();
  return { type: match[1], status: status === 'true' ? 'True' : status === 'false' ? 'False' : 'Unknown' };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `90s`, `5m`, `1h30m`, or plain seconds. */
export function parseDuration(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const parts = [...value.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) throw new UsageError(`"${value}" is not a duration like 90s, 5m or 1h30m`);
  return parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * (UNITS[unit ?? 's'] ?? 1000), 0);
}
