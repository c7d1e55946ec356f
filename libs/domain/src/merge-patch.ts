import { cloneJson, hasOwn, isPlainObject, setOwn, type JsonObject } from './json.js';

/**
 * RFC 7386 JSON merge patch. Objects merge member by member, null deletes a member, anything
 * else (arrays included) replaces. Returns a new value; neither input is mutated.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return cloneJson(patch);
  const out: JsonObject = isPlainObject(target) ? cloneJson(target) : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete out[key];
    } else {
      setOwn(out, key, applyMergePatch(hasOwn(out, key) ? out[key] : undefined, value));
    }
  }
  return out;
}
