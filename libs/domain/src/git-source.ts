import { GIT_URL_PATTERN, isSshGitUrl } from './site.js';

/** What a node (and the API, for the fleet) accepts as release code. */
export interface GitPolicy {
  /** Also accept file:// URLs and absolute paths (tests, single-server setups). */
  readonly allowLocal: boolean;
}

/** Which part of spec.code.git is wrong, and why. */
export interface GitSourceProblem {
  readonly field: 'url' | 'ref';
  readonly message: string;
}

const REF_PATTERN = /^[A-Za-z0-9._][A-Za-z0-9._/-]{0,199}$/;

/**
 * The fleet's git source rule: https:// (no credentials in the URL), ssh (the site's deploy key), file:// or an
 * absolute path only when the policy allows local repositories; a plain ref ('' is the
 * repository's default branch). The agent refuses a deploy with it, the API a Site spec.
 */
export function gitSourceProblem(url: string, ref: string, policy: GitPolicy): GitSourceProblem | undefined {
  if ((ref !== '' && !REF_PATTERN.test(ref)) || ref.includes('..') || ref.endsWith('/') || ref.endsWith('.lock') || ref.includes('//')) {
    return { field: 'ref', message: `git ref ${JSON.stringify(ref)} is not a plain branch or tag name` };
  }
  // eslint-disable-next-line no-control-regex
  if (url.length === 0 || url.length > 2048 || /[\s\u0000-\u001f\u007f]/.test(url)) {
    return { field: 'url', message: 'git url is empty, too long, or holds whitespace' };
  }
  if (isSshGitUrl(url)) {
    // ssh with the site's deploy key: the host and path come from the spec's pattern (GIT_URL_PATTERN).
    return GIT_URL_PATTERN.test(url) ? undefined : { field: 'url', message: `git url ${JSON.stringify(url.slice(0, 200))} is not an ssh URL of the form ssh://user@host[:port]/path or user@host:path` };
  }
  if (url.startsWith('https://')) {
    if (!URL.canParse(url)) return { field: 'url', message: `git url ${JSON.stringify(url)} is not a URL` };
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') return { field: 'url', message: 'git url must not hold credentials' };
    if (parsed.hostname === '') return { field: 'url', message: 'git url has no host' };
    return undefined;
  }
  if (policy.allowLocal && (url.startsWith('file:///') || (url.startsWith('/') && !url.includes('/../') && !url.endsWith('/..')))) return undefined;
  return { field: 'url', message: `git url ${JSON.stringify(url.slice(0, 200))} must be https://${policy.allowLocal ? ', file:// or an absolute path' : ''}` };
}
