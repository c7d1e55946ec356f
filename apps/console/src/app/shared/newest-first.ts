/** Newest first by createdAt (RFC 3339 in UTC, so string order is time order): the token lists, which have no watch. */
export function newestFirst<T extends { readonly createdAt: string; readonly id: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}
