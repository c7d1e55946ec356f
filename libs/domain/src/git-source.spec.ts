import { describe, expect, it } from 'vitest';
import { gitSourceProblem } from './git-source.js';

const remote = { allowLocal: false };
const local = { allowLocal: true };

describe('gitSourceProblem', () => {
  it.each([
    ['https', 'https://github.com/acme/site.git', 'main', remote],
    ['https with a port', 'https://git.example.test:8443/org/shop.git', 'v1.2', remote],
    ['the default branch', 'https://example.test/x.git', '', remote],
    ['a nested ref', 'https://example.test/x.git', 'release/2026-11', remote],
    ['file:// when local is allowed', 'file:///tmp/repo', 'v1.2', local],
    ['an absolute path when local is allowed', '/tmp/repo', 'release/2026-11', local],
    ['scp-like ssh (the deploy key)', 'git@github.com:acme/site.git', 'main', remote],
    ['ssh with a port', 'ssh://git@git.example.test:2222/acme/site.git', 'main', remote],
  ])('accepts %s', (_label, url, ref, policy) => {
    expect(gitSourceProblem(url, ref, policy)).toBeUndefined();
  });

  it.each([
    ['ssh with an option as the host', 'ssh://git@-oProxyCommand=id/x.git', remote],
    ['scp-like ssh climbing out', 'git@github.com:../site.git', remote],
    ['ssh with a password', 'ssh://git:pw@github.com/acme/site.git', remote],
    ['plain http', 'http://example.test/x.git', local],
    ['the ext transport', 'ext::sh -c id', local],
    ['an option', '--upload-pack=id', local],
    ['credentials', 'https://user:pw@example.test/x.git', remote],
    ['a user name', 'https://token@example.test/x.git', remote],
    ['file:// when local is not allowed', 'file:///tmp/repo', remote],
    ['an absolute path when local is not allowed', '/tmp/repo', remote],
    ['a path climbing out', '/tmp/../etc', local],
    ['a path ending in ..', '/tmp/..', local],
    ['a relative path', 'repo', local],
    ['whitespace', 'https://example.test/a b', remote],
    ['a control character', 'https://example.test/a\u0000b', remote],
    ['nothing', '', local],
    ['too long', `https://example.test/${'a'.repeat(2048)}`, remote],
    ['not a URL', 'https://[x/repo', remote],
  ])('refuses %s as the url', (_label, url, policy) => {
    expect(gitSourceProblem(url, 'main', policy)).toMatchObject({ field: 'url' });
  });

  it.each(['-b', '--upload-pack=x', 'a..b', 'a b', 'x.lock', 'a/', '/a', 'refs//x', 'r'.repeat(201)])('refuses the ref %j', (ref) => {
    expect(gitSourceProblem('https://example.test/x.git', ref, remote)).toMatchObject({ field: 'ref' });
  });
});
