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

/**
 * The URL rewrites a copy of a site's content needs (a clone, a restore under other domains, a
 * content sync): each of the source's domains to the target's domain at the same place in its
 * list, or to the target's first domain when the target lists fewer; pairs that are equal are
 * left out, and so is every source domain when the target has none.
 */
export function domainRewrites(source: readonly string[], target: readonly string[]): Array<{ from: string; to: string }> {
  const first = target[0];
  if (first === undefined) return [];
  const rewrites: Array<{ from: string; to: string }> = [];
  source.forEach((from, index) => {
    const to = target[index] ?? first;
    if (from !== '' && from !== to && !rewrites.some((r) => r.from === from)) rewrites.push({ from, to });
  });
  return rewrites;
}
