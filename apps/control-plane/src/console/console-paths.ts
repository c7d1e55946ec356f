/** The first path segments the API owns (contract.md); everything else under / is the console's. */
const API_SEGMENTS = new Set(['apis', 'api', 'auth', 'openapi', 'openapi.json', 'version', 'metrics', 'healthz', 'readyz', 'livez']);

/** Whether the API answers `path` (its first segment is the API's: /openapi.json/ too). Pure. */
export function isApiPath(path: string): boolean {
  return API_SEGMENTS.has(path.split('/')[1] ?? '');
}

/**
 * What to answer for a console path: a built file (hashed names: cached for a year) or, for a
 * page of the single-page app (no file extension), index.html (never cached: it names the
 * current build's files). Anything else (a missing asset, ..) is not the console's. Pure.
 */
export function consoleTarget(path: string): { kind: 'asset'; cacheable: boolean } | { kind: 'page' } | undefined {
  if (isApiPath(path) || path.includes('..') || path.includes('\0')) return undefined;
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (!last.includes('.')) return { kind: 'page' };
  return { kind: 'asset', cacheable: /-[A-Za-z0-9_-]{8,}\.(js|css|woff2?)$/.test(last) };
}

/** The headers of every console answer: no framing, no sniffing, no referrer, scripts and connections to this origin only. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
