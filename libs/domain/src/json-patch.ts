import { cloneJson, hasOwn, isPlainObject, jsonEqual, setOwn } from './json.js';
import { type FieldError } from './names.js';

export type JsonPatchResult = { ok: true; value: unknown } | { ok: false; error: FieldError };

type Op = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
const OPS: readonly Op[] = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

/** More operations than any honest client sends; bounds the work one request can cause. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/**
 * Bound on the patched document's size (values: objects, arrays and scalars). `copy` doubles a
 * subtree per operation, so a small patch could otherwise grow a document exponentially
 * (the problem behind CVE-2019-1002100 in Kubernetes).
 */
export const MAX_PATCHED_NODES = 100_000;

/** Counts values in a JSON document iteratively, stopping once past `limit`. */
function countNodes(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const node = stack.pop();
    count += 1;
    if (node !== null && typeof node === 'object') stack.push(...Object.values(node as Record<string, unknown>));
  }
  return count;
}

class PatchError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/**
 * RFC 6902 JSON patch, all or nothing: the first failing operation aborts the whole patch and
 * names itself (`patch[2].path`). Works on a copy; the input document is never mutated.
 */
export function applyJsonPatch(document: unknown, operations: unknown): JsonPatchResult {
  if (!Array.isArray(operations)) return fail('patch', 'must be an array of operations');
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) return fail('patch', `must have at most ${MAX_JSON_PATCH_OPERATIONS} operations`);
  const root: Root = { doc: cloneJson(document), nodes: 0 };
  root.nodes = countNodes(root.doc, MAX_PATCHED_NODES);
  try {
    operations.forEach((operation: unknown, index) => applyOne(root, operation, `patch[${index}]`));
  } catch (error) {
    if (error instanceof PatchError) return fail(error.field, error.message);
    throw error;
  }
  return { ok: true, value: root.doc };
}

function fail(field: string, message: string): JsonPatchResult {
  return { ok: false, error: { field, message } };
}

interface Root {
  doc: unknown;
  /** Values in the document so far (an upper bound: removals are not subtracted). */
  nodes: number;
}

function grow(root: Root, value: unknown, at: string): void {
  root.nodes += countNodes(value, MAX_PATCHED_NODES);
  if (root.nodes > MAX_PATCHED_NODES) throw new PatchError(at, `the patched document would exceed ${MAX_PATCHED_NODES} values`);
}

function applyOne(root: Root, operation: unknown, at: string): void {
  if (!isPlainObject(operation)) throw new PatchError(at, 'must be an object with "op" and "path"');
  const op = operation['op'];
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    throw new PatchError(`${at}.op`, `must be one of: ${OPS.join(', ')}`);
  }
  const path = parsePointer(operation['path'], `${at}.path`);
  const needsValue = op === 'add' || op === 'replace' || op === 'test';
  if (needsValue && !hasOwn(operation, 'value')) throw new PatchError(`${at}.value`, 'is required');
  switch (op as Op) {
    case 'add':
      add(root, path, cloneJson(operation['value']), `${at}.path`);
      return;
    case 'remove':
      remove(root, path, `${at}.path`);
      return;
    case 'replace':
      remove(root, path, `${at}.path`);
      add(root, path, cloneJson(operation['value']), `${at}.path`);
      return;
    case 'move': {
      const from = parsePointer(operation['from'], `${at}.from`);
      if (from.length < path.length && from.every((token, i) => token === path[i])) {
        throw new PatchError(`${at}.path`, 'must not be inside "from" (an object cannot move into itself)');
      }
      const value = get(root, from, `${at}.from`);
      remove(root, from, `${at}.from`);
      add(root, path, value, `${at}.path`);
      return;
    }
    case 'copy': {
      const from = parsePointer(operation['from'], `${at}.from`);
      const copied = get(root, from, `${at}.from`);
      grow(root, copied, at);
      add(root, path, cloneJson(copied), `${at}.path`);
      return;
    }
    case 'test':
      if (!jsonEqual(get(root, path, `${at}.path`), operation['value'])) {
        throw new PatchError(`${at}.value`, `test failed: the value at ${pointerText(path)} differs`);
      }
      return;
  }
}

/** RFC 6901: '' is the whole document; '/a~1b/~0c' is ['a/b', '~c']. */
function parsePointer(pointer: unknown, field: string): string[] {
  if (typeof pointer !== 'string') throw new PatchError(field, 'must be a JSON pointer string');
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(field, 'must be empty or start with "/"');
  if (/~[^01]|~$/.test(pointer)) throw new PatchError(field, 'must escape "~" as ~0 and "/" as ~1');
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pointerText(tokens: readonly string[]): string {
  const text = tokens.length === 0 ? '(root)' : `/${tokens.map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

function arrayIndex(token: string, length: number, allowEnd: boolean, field: string, tokens: readonly string[]): number {
  if (allowEnd && token === '-') return length;
  if (!ARRAY_INDEX.test(token)) throw new PatchError(field, `${pointerText(tokens)}: "${token.slice(0, 20)}" is not an array index`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) {
    throw new PatchError(field, `${pointerText(tokens)}: index ${index} is out of bounds (length ${length})`);
  }
  return index;
}

function get(root: Root, tokens: readonly string[], field: string): unknown {
  let node = root.doc;
  tokens.forEach((token, i) => {
    const here = tokens.slice(0, i + 1);
    if (Array.isArray(node)) {
      node = node[arrayIndex(token, node.length, false, field, here)];
    } else if (isPlainObject(node) && hasOwn(node, token)) {
      node = node[token];
    } else {
      throw new PatchError(field, `${pointerText(here)} does not exist`);
    }
  });
  return node;
}

function add(root: Root, tokens: readonly string[], value: unknown, field: string): void {
  const last = tokens[tokens.length - 1];
  if (last === undefined) {
    root.doc = value;
    return;
  }
  const parent = get(root, tokens.slice(0, -1), field);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length, true, field, tokens), 0, value);
  } else if (isPlainObject(parent)) {
    setOwn(parent, last, value);
  } else {
    throw new PatchError(field, `${pointerText(tokens.slice(0, -1))} is not an object or array`);
  }
}

function remove(root: Root, tokens: readonly string[], field: string): void {
  const last = tokens[tokens.length - 1];
  if (last === undefined) {
    root.doc = undefined;
    return;
  }
  const parent = get(root, tokens.slice(0, -1), field);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length, false, field, tokens), 1);
  } else if (isPlainObject(parent) && hasOwn(parent, last)) {
    delete parent[last];
  } else {
    throw new PatchError(field, `${pointerText(tokens)} does not exist`);
  }
}
