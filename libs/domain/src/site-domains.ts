/**
 * What a Site write does to the domains it holds: the ones it newly asks for (to claim, in the
 * order of the new list) and the ones it gives up. Undefined when the set is unchanged (a reorder
 * included): such a write touches no claim and keeps its one-round-trip path.
 */
export function domainChanges(before: readonly string[], after: readonly string[]): { claimed: string[]; released: string[] } | undefined {
  const had = new Set(before);
  const has = new Set(after);
  const claimed = after.filter((domain) => !had.has(domain));
  const released = before.filter((domain) => !has.has(domain));
  return claimed.length === 0 && released.length === 0 ? undefined : { claimed, released };
}
