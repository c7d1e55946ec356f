import { formatPath } from '@pressluft/domain';
import { parseDocument } from 'yaml';
import { PressluftError } from '../common/errors.js';
import { duplicateJsonKey, duplicateYamlKey, type KeyPath } from './duplicate-keys.js';

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
    // One document, no custom tags, no aliases expanded without bound; duplicate keys are found
    // below, so that the error can name the field.
    const document = parseDocument(text, { strict: true, uniqueKeys: false, prettyErrors: false });
    const [problem] = document.errors;
    if (problem) throw new PressluftError('BadRequest', `the body is not valid YAML: ${firstLine(problem)}`);
    refuseDuplicate(duplicateYamlKey(document));
    try {
      value = document.toJS({ maxAliasCount: 0 }) as unknown;
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
  const result = checked(format, value);
  // After the depth check: the JSON tree below is built recursively.
  if (format !== 'yaml') refuseDuplicate(duplicateJsonKey(text, value));
  return result;
}

/** Strict decoding, as kube-apiserver's: a key twice in one object is refused, never last-wins. */
function refuseDuplicate(path: KeyPath | undefined): void {
  if (!path) return;
  const field = formatPath(path);
  throw new PressluftError('BadRequest', `strict decoding error: duplicate field "${field}"`, [{ field, message: 'appears more than once in the same object' }]);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 200) ?? '';
}
