import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSshGitUrl } from '@pressluft/domain';
import { StepError, type StepReason } from './errors.js';

/** How a private repository is reached: the site's deploy key (ssh) or its token (https). */
export interface GitCredentials {
  /** ssh: the site's deploy key (a root-only file; the path is all git and ssh are given). */
  readonly deployKey?: string;
  /** ssh: the server's pinned host keys (known_hosts lines); no other key is trusted. */
  readonly knownHosts?: string;
  /** https: the user name sent with the token. */
  readonly username?: string;
  /** https: the token, sent as the password (never in argv or the environment: an askpass helper reads it from a file). */
  readonly token?: string;
}

/** A path that goes into a shell line (core.sshCommand, the askpass script): single-quoted, so no quote inside. */
function quoted(path: string): string {
  if (!/^[A-Za-z0-9._/+-]+$/.test(path)) throw new Error(`path ${JSON.stringify(path)} cannot be used by git's helpers`);
  return `'${path}'`;
}

/**
 * ssh as git runs it for an ssh URL: the deploy key only, the pinned host keys only, no config
 * file, agent, forwarding, proxy or prompt.
 */
export function sshCommand(deployKey: string, knownHostsFile: string): string {
  const options = [
    'IdentitiesOnly=yes',
    'IdentityAgent=none',
    'StrictHostKeyChecking=yes',
    `UserKnownHostsFile=${quoted(knownHostsFile)}`,
    'GlobalKnownHostsFile=/dev/null',
    'UpdateHostKeys=no',
    'CheckHostIP=no',
    'BatchMode=yes',
    'PasswordAuthentication=no',
    'KbdInteractiveAuthentication=no',
    'ProxyCommand=none',
    'ProxyJump=none',
    'ForwardAgent=no',
    'ForwardX11=no',
    'ClearAllForwardings=yes',
    'PermitLocalCommand=no',
    'ControlMaster=no',
    'ControlPath=none',
    'ConnectTimeout=30',
  ];
  return ['/usr/bin/ssh', '-F', '/dev/null', '-i', quoted(deployKey), ...options.flatMap((o) => ['-o', o])].join(' ');
}

/** What git is given for one fetch: its `-c` settings and environment; `cleanup` removes the helper files. */
export interface GitAccess {
  readonly config: string[];
  readonly env: NodeJS.ProcessEnv;
  /** Says why a failed fetch failed when it was the credentials or the host key; undefined otherwise. */
  readonly refused: (output: string) => StepError | undefined;
  readonly cleanup: () => Promise<void>;
}

/**
 * Sets up how git reaches `url`, with helper files in `dir` (a fresh root-only directory the
 * caller owns): for ssh the pinned host keys and an ssh command with the deploy key; for https
 * with a token an askpass script that reads user name and token from 0600 files.
 */
export async function gitAccess(url: string, credentials: GitCredentials, dir: string): Promise<GitAccess> {
  await mkdir(dir, { mode: 0o700 });
  const file = async (name: string, content: string, mode: number) => {
    const path = join(dir, name);
    await writeFile(path, content, { mode, flag: 'wx' });
    await chmod(path, mode);
    return path;
  };
  const cleanup = () => rm(dir, { recursive: true, force: true, maxRetries: 3 });
  /** A refusal when `output` says so: the reason and the last line that said it (ssh ends with its verdict). */
  const refusal = (output: string, pattern: RegExp, reason: StepReason, why: string) => {
    const line = output.split('\n').findLast((l) => pattern.test(l));
    return line === undefined ? undefined : new StepError('fetch', reason, `git fetch of ${url} failed: ${why} (${line.trim()})`);
  };
  if (isSshGitUrl(url)) {
    if (!credentials.deployKey) throw new StepError('fetch', 'GitFetchFailed', `${url} is an ssh URL and the site has no deploy key`);
    const knownHosts = await file('known_hosts', credentials.knownHosts ?? '', 0o600);
    return {
      config: ['-c', 'protocol.ssh.allow=always', '-c', `core.sshCommand=${sshCommand(credentials.deployKey, knownHosts)}`],
      env: {},
      refused: (output) =>
        refusal(output, /host key (verification failed|is known)|REMOTE HOST IDENTIFICATION HAS CHANGED/i, 'GitHostKeyMismatch', "the ssh server's host key is not one of spec.code.git.knownHosts") ??
        refusal(output, /Permission denied \(publickey/, 'GitAuthFailed', "the ssh server refused the site's deploy key (add status.deployKey.publicKey to the repository)"),
      cleanup,
    };
  }
  if (credentials.token === undefined) return { config: [], env: {}, refused: () => undefined, cleanup };
  const username = await file('username', `${credentials.username || 'x-access-token'}\n`, 0o600);
  const token = await file('token', `${credentials.token}\n`, 0o600);
  const askpass = await file('askpass', `#!/bin/sh\ncase "$1" in\n  Username*) exec /bin/cat ${quoted(username)} ;;\n  *) exec /bin/cat ${quoted(token)} ;;\nesac\n`, 0o700);
  return {
    // No credential helper stores what the prompt answered.
    config: ['-c', 'credential.helper='],
    env: { GIT_ASKPASS: askpass },
    refused: (output) => refusal(output, /Authentication failed|could not read (Username|Password)|returned error: 40[13]/i, 'GitAuthFailed', 'the server refused the token (spec.credentials.gitToken with spec.code.git.username)'),
    cleanup,
  };
}
