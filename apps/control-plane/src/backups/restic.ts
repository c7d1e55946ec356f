import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { StoreAccess } from '../backup-stores/backup-store.secrets.js';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { CONFIG } from '../infra/tokens.js';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** A prune of a large repository takes a while; SIGTERM (restic removes its lock) after this. */
const TIMEOUT_MS = 3_600_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** One restic invocation in a session: argv only (never a shell), secrets in files of the session's private directory. */
type Run = (args: readonly string[]) => Promise<string>;

/**
 * The control plane's restic (retention: forget and prune). The repository and the password file
 * go through the environment (RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE), never argv; the password,
 * an sftp key and its known_hosts are written to a 0600 file in a private 0700 directory that is
 * removed after the session. One session per repository at a time (restic's exclusive lock would
 * make a second one fail anyway).
 */
@Injectable()
export class Restic {
  private readonly sessions = new Map<string, Promise<unknown>>();

  constructor(@Inject(CONFIG) private readonly config: ControlPlaneConfig) {}

  /** Forgets the snapshots, then prunes the data only they held. Ids the repository no longer has are skipped by restic. */
  async forget(access: StoreAccess, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.session(access, async (run) => {
      await run(['forget', ...ids]);
      await run(['prune']);
    });
  }

  private async session<T>(access: StoreAccess, work: (run: Run) => Promise<T>): Promise<T> {
    const before = this.sessions.get(access.repository) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(() => this.inPrivateDir(access, work));
    this.sessions.set(access.repository, mine);
    try {
      return await mine;
    } finally {
      if (this.sessions.get(access.repository) === mine) this.sessions.delete(access.repository);
    }
  }

  private async inPrivateDir<T>(access: StoreAccess, work: (run: Run) => Promise<T>): Promise<T> {
    // mkdtemp makes the directory 0700.
    const dir = await mkdtemp(join(tmpdir(), 'pressluft-restic-'));
    try {
      const secret = async (name: string, text: string): Promise<string> => {
        const file = join(dir, name);
        await writeFile(file, text, { mode: 0o600, flag: 'wx' });
        return file;
      };
      const env: NodeJS.ProcessEnv = {
        PATH,
        LANG: 'C.UTF-8',
        HOME: dir,
        RESTIC_REPOSITORY: repositoryUrl(access),
        RESTIC_PASSWORD_FILE: await secret('password', access.password),
        RESTIC_CACHE_DIR: this.config.backups.resticCacheDir,
      };
      const options = access.repository.startsWith('sftp:') ? ['-o', `sftp.command=${await sftpCommand(access, secret)}`] : [];
      return await work((args) => runRestic([...options, ...args], env, access));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** restic 0.14 takes a REST server's basic auth only in the URL: it goes to the environment, never argv or a message. */
function repositoryUrl(access: StoreAccess): string {
  if (!access.repository.startsWith('rest:') || access.restUsername === undefined) return access.repository;
  const url = new URL(access.repository.slice('rest:'.length));
  url.username = access.restUsername;
  url.password = access.restPassword ?? '';
  return `rest:${url.toString()}`;
}

/** sftp: ssh with the store's key and known hosts only (no agent, no prompt, no unknown host). */
async function sftpCommand(access: StoreAccess, secret: (name: string, text: string) => Promise<string>): Promise<string> {
  const target = /^sftp:([^:]+):/.exec(access.repository)?.[1] ?? '';
  const options = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'IdentitiesOnly=yes'];
  if (access.sshPrivateKey) options.push('-i', await secret('id', access.sshPrivateKey.endsWith('\n') ? access.sshPrivateKey : `${access.sshPrivateKey}\n`));
  if (access.sshKnownHosts) options.push('-o', `UserKnownHostsFile=${await secret('known_hosts', access.sshKnownHosts)}`);
  return ['ssh', ...options, target, '-s', 'sftp'].join(' ');
}

/** Secrets a message must never carry, should restic print its repository URL. */
function redact(text: string, access: StoreAccess): string {
  return [access.password, access.restPassword].reduce<string>((out, secret) => (secret ? out.split(secret).join('[redacted]') : out), text);
}

function runRestic(args: readonly string[], env: NodeJS.ProcessEnv, access: StoreAccess): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('restic', [...args], { env, timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const how = error.killed ? `was stopped after ${TIMEOUT_MS / 1000} s` : typeof error.code === 'string' ? `could not start (${error.code})` : `exited with code ${String(error.code)}`;
      const output = redact((stderr || stdout).trim().split('\n').slice(-8).join('\n'), access);
      reject(new Error(`restic ${args.filter((a) => !a.startsWith('sftp.command=')).join(' ')} ${how}: ${output}`));
    });
  });
}
