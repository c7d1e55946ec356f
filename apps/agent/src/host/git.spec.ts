import { describe, expect, it } from 'vitest';
import { sshCommand } from './git-access.js';
import { checkGitSource, gitArgv, gitFetchSteps } from './git.js';

describe('git source', () => {
  const remote = { allowLocal: false };
  const local = { allowLocal: true };
  const SHA = 'a'.repeat(40);

  it('refuses a source with the fleet rule, as a validate step error', () => {
    expect(checkGitSource('https://github.com/acme/site.git', 'main', remote)).toEqual({ url: 'https://github.com/acme/site.git', ref: 'main' });
    expect(() => checkGitSource('file:///tmp/repo', 'main', remote)).toThrow(expect.objectContaining({ step: 'validate', reason: 'InvalidGitSource' }));
  });

  it('pins argv: protocols allow-listed (ssh only when the access adds it), no hooks, no ssh by default', () => {
    expect(gitArgv(remote, [], ['rev-parse'])).toEqual([
      '/usr/bin/git', '-c', 'protocol.allow=never', '-c', 'protocol.https.allow=always', '-c', 'core.sshCommand=/bin/false',
      '-c', 'core.hooksPath=/dev/null', '-c', 'core.symlinks=true', 'rev-parse',
    ]);
    expect(gitArgv(local, ['-c', 'protocol.ssh.allow=always'], [])).toEqual(expect.arrayContaining(['protocol.file.allow=always', 'protocol.ssh.allow=always']));
  });

  it('fetches one ref shallow (the default branch as HEAD), the url after --; a commit id by id, or every branch and tag as the fallback', () => {
    expect(gitFetchSteps('https://example.test/x.git', 'main')).toEqual([
      ['init', '--quiet', '--template=', '.'],
      ['fetch', '--quiet', '--depth', '1', '--no-tags', '--', 'https://example.test/x.git', 'main'],
      ['checkout', '--quiet', '--detach', 'FETCH_HEAD', '--'],
    ]);
    expect(gitFetchSteps('/tmp/repo', '')[1]?.slice(-3)).toEqual(['--', '/tmp/repo', 'HEAD']);
    expect(gitFetchSteps('/tmp/repo', SHA)[1]?.slice(-1)).toEqual([SHA]);
    const full = gitFetchSteps('/tmp/repo', SHA, true);
    expect(full[1]).not.toContain('--depth');
    expect(full[2]).toEqual(['checkout', '--quiet', '--detach', SHA, '--']);
  });

  it('runs ssh with the deploy key and the pinned host keys only: no config, agent, proxy or prompt', () => {
    const command = sshCommand('/var/lib/pressluft/sites/shop/deploy-key', '/var/lib/pressluft/git/shop/clone-1/access/known_hosts');
    expect(command).toMatch(/^\/usr\/bin\/ssh -F \/dev\/null -i '\/var\/lib\/pressluft\/sites\/shop\/deploy-key' /);
    for (const option of ['IdentitiesOnly=yes', 'IdentityAgent=none', 'StrictHostKeyChecking=yes', 'GlobalKnownHostsFile=/dev/null', 'BatchMode=yes', 'ProxyCommand=none', 'ForwardAgent=no']) {
      expect(command).toContain(`-o ${option}`);
    }
    expect(command).toContain("-o UserKnownHostsFile='/var/lib/pressluft/git/shop/clone-1/access/known_hosts'");
    expect(() => sshCommand("/tmp/x' ; rm -rf /", '/k')).toThrow(/cannot be used/);
  });
});
