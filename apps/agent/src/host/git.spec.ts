import { describe, expect, it } from 'vitest';
import { checkGitSource, gitCloneArgv } from './git.js';

describe('git source', () => {
  const remote = { allowLocal: false };
  const local = { allowLocal: true };

  it('accepts https and, when allowed, local repositories', () => {
    expect(checkGitSource('https://github.com/acme/site.git', 'main', remote)).toEqual({ url: 'https://github.com/acme/site.git', ref: 'main' });
    expect(checkGitSource('file:///tmp/repo', 'v1.2', local).url).toBe('file:///tmp/repo');
    expect(checkGitSource('/tmp/repo', 'release/2026-11', local).ref).toBe('release/2026-11');
    expect(checkGitSource('https://example.test/x.git', '', remote).ref).toBe('');
  });

  it('refuses ssh, credentials, options, other protocols and odd refs', () => {
    for (const url of ['git@github.com:acme/site.git', 'ssh://git@github.com/acme/site.git', 'http://example.test/x.git', 'ext::sh -c id', '--upload-pack=id', 'https://user:pw@example.test/x.git', 'file:///tmp/repo', '/tmp/repo', 'https://example.test/a b']) {
      expect(() => checkGitSource(url, 'main', remote)).toThrow(/git url/);
    }
    expect(() => checkGitSource('/tmp/../etc', 'main', local)).toThrow(/git url/);
    for (const ref of ['-b', '--upload-pack=x', 'a..b', 'a b', 'x.lock', 'a/', '/a', 'refs//x']) {
      expect(() => checkGitSource('https://example.test/x.git', ref, remote)).toThrow(/git ref/);
    }
  });

  it('pins argv: shallow, one branch, protocols allow-listed, url after --', () => {
    expect(gitCloneArgv('https://example.test/x.git', 'main', '/d', remote)).toEqual([
      '/usr/bin/git', '-c', 'protocol.allow=never', '-c', 'protocol.https.allow=always', '-c', 'core.symlinks=true',
      'clone', '--quiet', '--depth', '1', '--single-branch', '--no-tags', '--branch', 'main', '--', 'https://example.test/x.git', '/d',
    ]);
    const withLocal = gitCloneArgv('/tmp/repo', '', '/d', local);
    expect(withLocal).toContain('protocol.file.allow=always');
    expect(withLocal).not.toContain('--branch');
    expect(withLocal.slice(-3)).toEqual(['--', '/tmp/repo', '/d']);
  });
});
