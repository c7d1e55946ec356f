import { parse as parseYaml } from 'yaml';
import { PressluftError } from '../common/errors.js';

export type BodyFormat = 'json' | 'yaml' | 'merge-patch' | 'json-patch';

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
  if (format === 'yaml') {
    try {
      // One document, no custom tags, no aliases expanded without bound.
      return { format, value: parseYaml(text, { strict: true, uniqueKeys: true, maxAliasCount: 0, prettyErrors: false }) as unknown };
    } catch (error) {
      throw new PressluftError('BadRequest', `the body is not valid YAML: ${firstLine(error)}`);
    }
  }
  try {
    return { format, value: JSON.parse(text) as unknown };
  } catch (error) {
    throw new PressluftError('BadRequest', `the body is not valid JSON: ${firstLine(error)}`);
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 200) ?? '';
}
