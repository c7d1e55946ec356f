// Real git servers for the private-repository specs (apps/agent/test: outside src/, so the build
// leaves it out): smart HTTP (`git http-backend` as CGI behind HTTP basic auth, over TLS) and
// ssh (the system's sshd on a loopback port with its own config, host key and a git-shell user).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { PemPair } from '@pressluft/testing';
import { execOk } from '../src/host/exec.js';

export interface SmartHttpServer {
  readonly port: number;
  /** Requests answered 401 (no or wrong credentials). */
  readonly refused: number;
  close(): Promise<void>;
}

/**
 * https://127.0.0.1:<port>/<repo> for the repositories under `projectRoot`, only with
 * `username`:`token`. `v2: false` drops the client's Git-Protocol header, so the server speaks
 * protocol v0 and refuses a commit it does not advertise. `onAuthorized` runs on every
 * authorized request before it is answered (a test looks at the client's side meanwhile).
 */
export async function smartHttpServer(options: {
  readonly projectRoot: string;
  readonly tls: PemPair;
  readonly username: string;
  readonly token: string;
  readonly v2: boolean;
  readonly onAuthorized?: () => Promise<void>;
}): Promise<SmartHttpServer> {
  const expected = `Basic ${Buffer.from(`${options.username}:${options.token}`).toString('base64')}`;
  let refused = 0;
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.headers.authorization !== expected) {
      refused += 1;
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
      return;
    }
    await options.onAuthorized?.();
    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const protocol = request.headers['git-protocol'];
    const cgi = spawn('/usr/lib/git-core/git-http-backend', [], {
      env: {
        PATH: '/usr/bin:/bin',
        GIT_PROJECT_ROOT: options.projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        REQUEST_METHOD: request.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        REMOTE_USER: options.username,
        REMOTE_ADDR: '127.0.0.1',
        ...(request.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: request.headers['content-encoding'] } : {}),
        ...(options.v2 && typeof protocol === 'string' ? { GIT_PROTOCOL: protocol } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    request.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve) => cgi.on('close', () => resolve()));
    const output = Buffer.concat(chunks);
    const split = output.indexOf('\r\n\r\n');
    const headerEnd = split >= 0 ? split : output.indexOf('\n\n');
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of output.subarray(0, headerEnd).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    response.writeHead(status, headers).end(output.subarray(headerEnd + (split >= 0 ? 4 : 2)));
  };
  const server = createServer({ key: options.tls.key, cert: options.tls.cert }, (request, response) => {
    answer(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get refused() {
      return refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface TestSshd {
  readonly port: number;
  /** The Linux user git connects as (its shell is git-shell). */
  readonly user: string;
  /** Where its repositories live (the user's home, the user's own). */
  readonly repositories: string;
  /** The server's host key as a known_hosts line for [127.0.0.1]:port. */
  readonly knownHosts: string;
  /** Lets this public key in (authorized_keys, root's, outside the user's reach). */
  authorize(publicKey: string): void;
  close(): Promise<void>;
}

/**
 * sshd -D on 127.0.0.1:<free port> with its own config and host key under `dir`, letting only a
 * fresh test user in by public key; the user's shell is git-shell (git's commands only). close()
 * stops that sshd by its pid and removes the user.
 */
export async function testSshd(dir: string): Promise<TestSshd> {
  const user = `plgit${randomBytes(3).toString('hex')}`;
  const repositories = join(dir, 'home');
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o755 });
  await execOk(['/usr/sbin/useradd', '--system', '--no-create-home', '--home-dir', repositories, '--shell', '/usr/bin/git-shell', user]);
  // A usable, password-less account: '!' (locked) would keep sshd without PAM from letting it in.
  await execOk(['/usr/sbin/usermod', '--password', '*', user]);
  mkdirSync(repositories, { mode: 0o755 });
  const uid = Number.parseInt((await execOk(['/usr/bin/id', '-u', user])).trim(), 10);
  chownSync(repositories, uid, uid);
  const hostKey = join(dir, 'host_ed25519');
  await execOk(['/usr/bin/ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'test-sshd', '-f', hostKey]);
  const authorized = join(dir, 'keys', 'authorized_keys');
  writeFileSync(authorized, '', { mode: 0o644 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      `AllowUsers ${user}`,
      'PermitRootLogin no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // Privilege separation needs its empty directory (the package makes it only when its service starts).
  const privsep = '/run/sshd';
  const madePrivsep = !existsSync(privsep);
  if (madePrivsep) mkdirSync(privsep, { mode: 0o755 });
  const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sshd.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  await waitForPort(port, () => log);
  const publicHostKey = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  return {
    port,
    user,
    repositories,
    knownHosts: `[127.0.0.1]:${port} ${publicHostKey}\n`,
    authorize: (publicKey) => writeFileSync(authorized, `${publicKey}\n`, { flag: 'a' }),
    async close() {
      if (sshd.pid !== undefined && sshd.exitCode === null) {
        const exited = new Promise<void>((resolve) => sshd.once('exit', () => resolve()));
        process.kill(sshd.pid, 'SIGTERM');
        await exited;
      }
      if (madePrivsep) await execOk(['/bin/rmdir', privsep]).catch(() => undefined);
      await execOk(['/usr/sbin/userdel', user]);
    },
  };
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port}: ${log()}`);
}
