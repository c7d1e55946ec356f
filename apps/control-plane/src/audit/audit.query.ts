import { PressluftError } from '../common/errors.js';

/** GET /auth/v1/audit's filters, checked: each one narrows the rows (AND); none given, every row. */
export interface AuditQuery {
  readonly subject?: string;
  readonly verb?: string;
  /** Rows whose path starts with this. */
  readonly path?: string;
  readonly code?: number;
  /** ok: accepted (1xx-3xx); refused: 4xx/5xx and the counted unauthenticated rows (code 0). */
  readonly outcome?: 'ok' | 'refused';
  /** since <= at < until. */
  readonly since?: Date;
  readonly until?: Date;
  readonly limit: number;
  /** The cursor of the next (older) page: rows with an id below this one. */
  readonly before?: string;
}

export const AUDIT_PAGE = { default: 100, max: 1000 } as const;

const VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', '*']);
const SUBJECT = /^[a-z][a-z0-9._@-]{0,62}$/;
/** RFC 3339 with a zone (what the API writes: 2026-12-07T12:00:00.000Z). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const KNOWN = new Set(['subject', 'verb', 'path', 'code', 'outcome', 'since', 'until', 'limit', 'before']);

const bad = (field: string, message: string) => new PressluftError('BadRequest', `invalid query parameter ${field}: ${message}`, [{ field, message }]);

function single(query: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = query[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw bad(key, 'must be given once, as a string');
  return value;
}

function timestamp(query: Readonly<Record<string, unknown>>, key: string): Date | undefined {
  const value = single(query, key);
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (!TIMESTAMP.test(value) || Number.isNaN(at.getTime())) throw bad(key, 'must be an RFC 3339 time like 2026-12-07T12:00:00Z');
  return at;
}

/** The query string of GET /auth/v1/audit, or a 400 naming the first bad parameter (an unknown one too: a typo must not widen the answer). */
export function parseAuditQuery(query: Readonly<Record<string, unknown>>): AuditQuery {
  const unknown = Object.keys(query).find((key) => !KNOWN.has(key));
  if (unknown !== undefined) throw bad(unknown.slice(0, 64), `is not a filter of the audit log (${[...KNOWN].join(', ')})`);
  const subject = single(query, 'subject');
  if (subject !== undefined && subject !== 'anonymous' && !SUBJECT.test(subject)) throw bad('subject', 'must be a token subject like olga');
  const verb = single(query, 'verb')?.toUpperCase();
  if (verb !== undefined && !VERBS.has(verb)) throw bad('verb', 'must be POST, PUT, PATCH or DELETE');
  const path = single(query, 'path');
  if (path !== undefined && (!path.startsWith('/') || path.length > 512)) throw bad('path', 'must be a path prefix starting with /, at most 512 characters');
  const codeText = single(query, 'code');
  if (codeText !== undefined && !/^(0|[1-5]\d\d)$/.test(codeText)) throw bad('code', 'must be an HTTP status code (100-599) or 0');
  const outcome = single(query, 'outcome');
  if (outcome !== undefined && outcome !== 'ok' && outcome !== 'refused') throw bad('outcome', 'must be ok or refused');
  const since = timestamp(query, 'since');
  const until = timestamp(query, 'until');
  if (since && until && since.getTime() >= until.getTime()) throw bad('until', 'must be after since');
  const limitText = single(query, 'limit');
  if (limitText !== undefined && (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > AUDIT_PAGE.max)) throw bad('limit', `must be an integer from 1 to ${AUDIT_PAGE.max}`);
  const before = single(query, 'before');
  if (before !== undefined && !/^[1-9]\d{0,17}$/.test(before)) throw bad('before', 'must be the next cursor of a previous page (digits)');
  return {
    ...(subject !== undefined ? { subject } : {}),
    ...(verb !== undefined ? { verb } : {}),
    ...(path !== undefined ? { path } : {}),
    ...(codeText !== undefined ? { code: Number(codeText) } : {}),
    ...(outcome !== undefined ? { outcome } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    limit: limitText === undefined ? AUDIT_PAGE.default : Number(limitText),
    ...(before !== undefined ? { before } : {}),
  };
}
