import { describe, expect, it } from 'vitest';
import { checkGitSource, gitCloneArgv } from './git.js';

describe('git source', () => {
  const remote = { allowLocal: false };
  const local = { allowLocal: true };

  it('refuses a source with the fleet rule, as a validate step error', () => {
    expect(checkGitSource('https://github.com/acme/site.git', 'main', remote)).toEqual({ url: 'https://github.com/acme/site.git', ref: 'main' });
    expect(() => checkGitSource('file:///tmp/repo', 'main', remote)).toThrow(expect.objectContaining({ step: 'validate', reason: 'InvalidGitSource' }));
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
