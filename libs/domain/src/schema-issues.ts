import { type z } from 'zod';
import { formatPath } from './field-path.js';
import { type FieldError } from './names.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/**
 * Per-parse messages for issues whose schema gave none: short, in the API's voice, and never
 * echoing the offending value (it may be huge or hostile).
 */
export const fieldErrorMap: z.core.$ZodErrorMap = (issue: RawIssue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_NAMES[issue.expected] ?? `of type ${issue.expected}`}`;
    case 'too_small':
      return boundMessage('at least', issue.origin, issue.minimum, issue.inclusive !== false, issue.exact === true);
    case 'too_big':
      return boundMessage('at most', issue.origin, issue.maximum, issue.inclusive !== false, issue.exact === true);
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'datetime'
        ? 'must be an RFC 3339 timestamp in UTC, like 2026-01-01T00:00:00Z'
        : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_union':
    case 'invalid_element':
    case 'custom':
      return 'is invalid';
    default:
      return undefined;
  }
};

const TYPE_NAMES: Partial<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  record: 'an object',
};

function boundMessage(
  word: 'at least' | 'at most',
  origin: string,
  bound: number | bigint,
  inclusive: boolean,
  exact: boolean,
): string {
  const n = String(bound);
  const plural = n === '1' ? '' : 's';
  if (origin === 'string') return `must be ${exact ? 'exactly' : word} ${n} character${plural}`;
  if (origin === 'array' || origin === 'set') return `must have ${exact ? 'exactly' : word} ${n} item${plural}`;
  const op = word === 'at least' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
  return `must be ${op} ${n}`;
}

/** A path to an unknown member, and the member, from zod's unrecognized_keys issues. */
export function unknownFieldPaths(issues: readonly Issue[]): (string | number)[][] {
  const paths: (string | number)[][] = [];
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    for (const key of issue.keys) paths.push([...toSegments(issue.path), key]);
  }
  return paths;
}

/**
 * Converts zod issues (other than unknown fields) into FieldErrors under a path prefix: one per
 * field, the first check that failed (a 5000-character title is "too long", not also "bad characters").
 */
export function issuesToFieldErrors(issues: readonly Issue[], prefix: readonly (string | number)[] = []): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') continue;
    // A bad record key: the inner issue says why; the path already names the key.
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    const field = formatPath([...prefix, ...toSegments(issue.path)]);
    if (seen.has(field)) continue;
    seen.add(field);
    errors.push({ field, message });
  }
  return errors;
}

export function toSegments(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
}
