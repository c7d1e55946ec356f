/** Resource names are at most 40 characters (NAME_PATTERN). */
const NAME_MAX = 40;
const HASH_LENGTH = 6;

/** FNV-1a (32 bit): a short, stable tag for a name that had to be cut. */
function nameTag(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(HASH_LENGTH, '0').slice(-HASH_LENGTH);
}

/**
 * The name of an object the control plane makes for another (`<base>-<suffix>`: a pre-restore
 * Backup, a clone's source Backup, ...), always a valid name: a base too long for it is cut and
 * tagged with a hash of the whole base, so two long names with a common beginning never share one.
 * `suffix` is lower-case letters, digits and '-', at most 30 characters.
 */
export function derivedName(base: string, suffix: string): string {
  if (base.length + 1 + suffix.length <= NAME_MAX) return `${base}-${suffix}`;
  const prefix = base.slice(0, NAME_MAX - suffix.length - HASH_LENGTH - 2).replace(/-+$/, '');
  return `${prefix}-${nameTag(base)}-${suffix}`;
}
