import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A placeholder's value; a list renders as its escaped items joined by one space. */
export type TemplateValue = string | number | readonly string[];

/** Makes one value safe for the template's context, or throws when it cannot be. */
export type Escaper = (value: string, placeholder: string) => string;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/**
 * Replaces every `{{name}}` with `escape(values[name])`. A placeholder without a value and a
 * value no placeholder uses are both errors: a typo must not render a silently broken file.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, TemplateValue>>, escape: Escaper, label = 'template'): string {
  const used = new Set<string>();
  const out = template.replace(PLACEHOLDER, (_match, name: string) => {
    if (!Object.hasOwn(values, name)) throw new TemplateError(`${label}: unknown placeholder {{${name}}}`);
    used.add(name);
    const value = values[name] as TemplateValue;
    const items = typeof value === 'string' || typeof value === 'number' ? [String(value)] : value;
    if (items.length === 0) throw new TemplateError(`${label}: {{${name}}} is an empty list`);
    return items.map((item) => escape(item, name)).join(' ');
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new TemplateError(`${label}: values without a placeholder: ${unused.join(', ')}`);
  return out;
}

function validated(pattern: RegExp, context: string): Escaper {
  return (value, placeholder) => {
    if (!pattern.test(value)) throw new TemplateError(`{{${placeholder}}}: ${JSON.stringify(value)} is not allowed in ${context}`);
    return value;
  };
}

/**
 * nginx tokens: paths, server names, listen addresses, sizes. No whitespace, quotes, `;`, braces,
 * `$` or `#`, so a value can never end a directive, open a block or reference a variable.
 */
export const nginxValue: Escaper = validated(/^[A-Za-z0-9._:/[\]*+@-]+$/, 'an nginx configuration');

/** PHP-FPM ini values: paths, users, numbers, comma lists. No whitespace, quotes, `;`, `$` or newlines. */
export const fpmValue: Escaper = validated(/^[A-Za-z0-9._:/,@+-]+$/, 'a PHP-FPM configuration');

/** The inside of a single-quoted PHP string literal: `\` and `'` escaped; NUL refused. */
export const phpSingleQuoted: Escaper = (value, placeholder) => {
  if (value.includes('\0')) throw new TemplateError(`{{${placeholder}}}: NUL is not allowed in a PHP string`);
  return value.replace(/[\\']/g, (c) => `\\${c}`);
};

/** The repository's templates/ directory, found upward from this module (source or build output). */
export function defaultTemplatesDir(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'templates');
    if (existsSync(join(candidate, 'nginx', 'site.conf'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new TemplateError(`no templates/ directory above ${from}: set HostSettings.templatesDir`);
    dir = parent;
  }
}

const cache = new Map<string, string>();

/** Reads a template once per process (templates are immutable while the agent runs). */
export function loadTemplate(templatesDir: string, relativePath: string): string {
  const path = join(templatesDir, relativePath);
  let text = cache.get(path);
  if (text === undefined) {
    text = readFileSync(path, 'utf8');
    cache.set(path, text);
  }
  return text;
}
