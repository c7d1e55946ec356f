import { formatPath } from '@pressluft/domain';
import { parseDocument } from 'yaml';
import { PressluftError } from '../common/errors.js';
import { duplicateJsonKey, duplicateYamlKey, type KeyPath } from './duplicate-keys.js';

export type BodyFormat = 'json' | 'yaml' | 'merge-patch' | 'json-patch';

/** Deeper than any manifest needs; deeper documents are refused before anything recurses on them. */
export const MAX_BODY_DEPTH = 64;

/** What one walk over a parsed document found (see measure). */
export interface BodyShape {
  /** Where it first nests deeper than MAX_BODY_DEPTH: the first two keys of the path there; undefined when it does not. */
  readonly tooDeepUnder: KeyPath | undefined;
  /** The members of its objects, nested ones included (duplicateJsonKey compares them with the text). */
  readonly members: number;
}

/**
 * One walk over a parsed document for both checks of parseBody. Iterative, so a hostile body
 * cannot blow the stack here either; no path is built per value (a request's hot path), only
 * the first two keys that the refusal names.
 */
export function measure(value: unknown): BodyShape {
  const nodes: unknown[] = [value];
  const depths: number[] = [0];
  const heads: KeyPath[] = [[]];
  let members = 0;
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop() ?? 0;
    const head = heads.pop() ?? [];
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) return { tooDeepUnder: head, members };
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        nodes.push(node[i]);
        depths.push(depth + 1);
        heads.push(depth < 2 ? [...head, i] : head);
      }
    } else {
      const keys = Object.keys(node);
      members += keys.length;
      for (const key of keys) {
        nodes.push((node as Record<string, unknown>)[key]);
        depths.push(depth + 1);
        heads.push(depth < 2 ? [...head, key] : head);
      }
    }
  }
  return { tooDeepUnder: undefined, members };
}

function refuseTooDeep(under: KeyPath | undefined): void {
  if (!under) return;
  const field = formatPath(under);
  throw new PressluftError('BadRequest', `the body is nested deeper than ${MAX_BODY_DEPTH} levels (under ${field})`, [
    { field, message: `nests deeper than ${MAX_BODY_DEPTH} levels` },
  ]);
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
  const shape = measure(value);
  refuseTooDeep(shape.tooDeepUnder);
  // After the depth check: the JSON tree below is built recursively.
  if (format !== 'yaml') refuseDuplicate(duplicateJsonKey(text, shape.members));
  return { format, value };
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
