import { kindByPlural, NAME_PATTERN, parseLabelSelector, type KindName, type LabelSelector, type Resource, type TableInclude, type UnknownFieldPolicy } from '@pressluft/domain';
import { PressluftError } from '../common/errors.js';

type Query = Readonly<Record<string, unknown>>;

function single(query: Query, key: string): string | undefined {
  const value = query[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badParam(key, 'must be given once, as a string');
  return value;
}

const badParam = (field: string, message: string) => new PressluftError('BadRequest', `invalid query parameter ${field}: ${message}`, [{ field, message }]);

function boolean(query: Query, key: string): boolean {
  const value = single(query, key);
  if (value === undefined || value === '' || value === 'false' || value === '0') return value === '' ? true : false;
  if (value === 'true' || value === '1') return true;
  throw badParam(key, 'must be true or false');
}

function integer(query: Query, key: string, min: number, max: number): number | undefined {
  const value = single(query, key);
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > max) throw badParam(key, `must be an integer from ${min} to ${max}`);
  return Number(value);
}

function resourceVersion(query: Query, key: string): string | undefined {
  const value = single(query, key);
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,19}$/.test(value)) throw badParam(key, 'must be a resourceVersion (digits)');
  return value;
}

export interface WriteQuery {
  readonly fieldValidation: UnknownFieldPolicy;
  readonly dryRun: boolean;
}

/** fieldValidation defaults to Strict: an unknown field is a mistake we report, not drop. */
export function parseWriteQuery(query: Query): WriteQuery {
  const fieldValidation = single(query, 'fieldValidation') ?? 'Strict';
  if (fieldValidation !== 'Strict' && fieldValidation !== 'Warn' && fieldValidation !== 'Ignore') {
    throw badParam('fieldValidation', 'must be Strict, Warn or Ignore');
  }
  const dryRun = single(query, 'dryRun');
  if (dryRun !== undefined && dryRun !== 'All') throw badParam('dryRun', 'must be All');
  return { fieldValidation, dryRun: dryRun === 'All' };
}

export interface ContinueToken {
  /** The listOrderKey of the last object served. */
  readonly after: string;
}

export interface ListQuery {
  readonly selector: LabelSelector | undefined;
  readonly names: string[] | undefined;
  readonly limit: number | undefined;
  readonly continueAfter: string | undefined;
  readonly watch: boolean;
  readonly resourceVersion: string | undefined;
  readonly timeoutSeconds: number | undefined;
  readonly allowBookmarks: boolean;
  readonly specFilters: readonly SpecFilter[];
}

/** Equality on a spec field: events by involvedObject, commands by site or node. */
export interface SpecFilter {
  readonly path: readonly string[];
  readonly value: string;
}

export function matchesSpecFilters(object: Resource, filters: readonly SpecFilter[]): boolean {
  return filters.every((filter) => {
    let value: unknown = object.spec;
    for (const key of filter.path) value = (value as Record<string, unknown> | null | undefined)?.[key];
    return value === filter.value;
  });
}

function nameParam(query: Query, key: string): string | undefined {
  const value = single(query, key);
  if (value !== undefined && !NAME_PATTERN.test(value)) throw badParam(key, 'must be a resource name');
  return value;
}

/** The list filters each kind offers besides label and field selectors. */
function specFilters(query: Query, kind: KindName): SpecFilter[] {
  const filters: SpecFilter[] = [];
  const involved = single(query, 'involvedObject');
  if (involved !== undefined) {
    if (kind !== 'Event') throw badParam('involvedObject', 'applies to events only');
    const [plural, name, ...rest] = involved.split('/');
    const target = plural ? kindByPlural(plural) : undefined;
    if (!target || !name || rest.length > 0 || !NAME_PATTERN.test(name)) throw badParam('involvedObject', 'must be <plural>/<name>, like sites/shop');
    filters.push({ path: ['involvedObject', 'kind'], value: target.kind }, { path: ['involvedObject', 'name'], value: name });
  }
  for (const key of ['site', 'node'] as const) {
    const value = nameParam(query, key);
    if (value === undefined) continue;
    if (kind !== 'Command') throw badParam(key, 'applies to commands only');
    filters.push({ path: [key], value });
  }
  return filters;
}

export function encodeContinue(after: string): string {
  return Buffer.from(JSON.stringify({ after } satisfies ContinueToken)).toString('base64url');
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (typeof parsed.after === 'string' && parsed.after.length <= 300) return parsed.after;
  } catch {
    // fall through
  }
  throw badParam('continue', 'is not a continue token this server issued');
}

/** Only metadata.name is indexed for field selectors (what kubectl uses to wait for one object). */
function parseFieldSelector(value: string): string[] {
  const names: string[] = [];
  for (const part of value.split(',').filter(Boolean)) {
    const match = /^metadata\.name(==?)([a-z0-9-]{1,63})$/.exec(part);
    if (!match?.[2]) throw badParam('fieldSelector', 'only metadata.name=<name> is supported');
    names.push(match[2]);
  }
  return names;
}

export function parseListQuery(query: Query, kind: KindName): ListQuery {
  const labelSelector = single(query, 'labelSelector');
  let selector: LabelSelector | undefined;
  if (labelSelector) {
    const parsed = parseLabelSelector(labelSelector);
    if (!parsed.ok) throw badParam('labelSelector', parsed.error.message);
    selector = parsed.selector;
  }
  const fieldSelector = single(query, 'fieldSelector');
  const continueToken = single(query, 'continue');
  return {
    selector,
    names: fieldSelector ? parseFieldSelector(fieldSelector) : undefined,
    limit: integer(query, 'limit', 1, 10_000),
    continueAfter: continueToken ? decodeContinue(continueToken) : undefined,
    watch: boolean(query, 'watch'),
    resourceVersion: resourceVersion(query, 'resourceVersion'),
    timeoutSeconds: integer(query, 'timeoutSeconds', 1, 3600),
    allowBookmarks: boolean(query, 'allowWatchBookmarks'),
    specFilters: specFilters(query, kind),
  };
}

/** Kubernetes clients ask for server-side printing with `Accept: application/json;as=Table;...`. */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => /;\s*as=Table/.test(part));
}

export function tableInclude(query: Query): TableInclude {
  const value = single(query, 'includeObject') ?? 'Metadata';
  if (value !== 'None' && value !== 'Metadata' && value !== 'Object') throw badParam('includeObject', 'must be None, Metadata or Object');
  return value;
}
