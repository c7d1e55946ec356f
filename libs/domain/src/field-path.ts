const PLAIN_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const MAX_SEGMENT = 64;

/**
 * Renders a path the Kubernetes way: `spec.domains[0]`, `metadata.labels.team`. Keys that are not
 * plain identifiers (`app.kubernetes.io/name`) go in brackets so the path stays unambiguous; long
 * keys are cut so an error never echoes a huge value.
 */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
    } else if (PLAIN_SEGMENT.test(segment) && segment.length <= MAX_SEGMENT) {
      out += out === '' ? segment : `.${segment}`;
    } else {
      out += `[${segment.length > MAX_SEGMENT ? `${segment.slice(0, MAX_SEGMENT)}...` : segment}]`;
    }
  }
  return out;
}
