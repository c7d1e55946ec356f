import { formatPath } from '@pressluft/domain';
import { parse as parseYaml } from 'yaml';
import { PressluftError } from '../common/errors.js';

export type BodyFormat = 'json' | 'yaml' | 'merge-patch' | 'json-patch';

/** Deeper than any manifest needs; deeper documents are refused before anything recurses on them. */
export const MAX_BODY_DEPTH = 64;

/**
 * Where a parsed document first nests deeper than MAX_BODY_DEPTH (its path), or undefined.
 * Iterative, so a hostile body cannot blow the stack here either.
 */
export function tooDeep(value: unknown): Array<string | number> | undefined {
  const stack: Array<[unknown, Array<string | number>]> = [[value, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, Array<string | number>];
    if (node === null || typeof node !== 'object') continue;
    if (path.length >= MAX_BODY_DEPTH) return path;
    for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
      stack.push([child, [...path, Array.isArray(node) ? Number(key) : key]]);
    }
  }
  return undefined;
}

function checked(format: BodyFormat, value: unknown): { format: BodyFormat; value: unknown } {
  const path = tooDeep(value);
  if (path) {
    const field = formatPath(path.slice(0, 2));
    throw new PressluftError('BadRequest', `the body is nested deeper than ${MAX_BODY_DEPTH} levels (under ${field})`, [
      { field, message: `nests deeper than ${MAX_BODY_DEPTH} levels` },
    ]);
  }
  return { format, value };
}

/** The media type without parameters (`application/json; charset=utf-8` -> `application/json`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

const OBJECT_TYPES: Readonly<Record<string, BodyFormat>> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/x-yaml': 'yaml',
  'text/yaml': 'yaml',
};

const PATCH_TYPES: Readonly<Record<string, BodyFormat>> = {
  'application/merge-patch+json': 'merge-patch',
  'application/json-patch+json': 'json-patch',
};

/** Parses a create/replace body (JSON or YAML) or a patch body; anything else is 415. */
export function parseBody(raw: unknown, contentType: string | undefined, use: 'object' | 'patch'): { format: BodyFormat; value: unknown } {
  const type = mediaType(contentType);
  const format = (use === 'object' ? OBJECT_TYPES : PATCH_TYPES)[type];
  if (!format) {
    const allowed = Object.keys(use === 'object' ? OBJECT_TYPES : PATCH_TYPES).join(', ');
    const hint = type === 'application/strategic-merge-patch+json' ? ' (strategic merge patch applies to built-in Kubernetes types only)' : '';
    throw new PressluftError('UnsupportedMediaType', `the body's media type "${type || '(none)'}" is not supported${hint}; use ${allowed}`);
  }
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  if (text.trim() === '') throw new PressluftError('BadRequest', 'the request body is empty');
  let value: unknown;
  if (format === 'yaml') {
    try {
      // One document, no custom tags, no aliases expanded without bound.
      value = parseYaml(text, { strict: true, uniqueKeys: true, maxAliasCount: 0, prettyErrors: false }) as unknown;
    } catch (error) {
      throw new PressluftError('BadRequest', `the body is not valid YAML: ${firstLine(error)}`);
    }
  } else {
    try {
      value = JSON.parse(text) as unknown;
    } catch (error) {
      throw new PressluftError('BadRequest', `the body is not valid JSON: ${firstLine(error)}`);
    }
  }
  return checked(format, value);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 200) ?? '';
}
