import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ResticStore } from '@pressluft/agent-runtime';
import { describeExit } from '@pressluft/domain';
import { StepError, redact } from '../errors.js';
import { BASE_ENV, exec, tail } from '../exec.js';
import { Dir, ensureDir, removeTree, type Ownership } from '../safe-fs.js';

/**
 * restic against a BackupStore. The credentials reach restic only through files in a root-only
 * 0700 directory under the agent's state dir (removed when the session closes) and through its
 * environment: the password as RESTIC_PASSWORD_FILE, a REST server's login inside the
 * RESTIC_REPOSITORY URL, an sftp store's key and known_hosts as files whose PATHS (never their
 * content) are on ssh's argv. Nothing secret is ever on argv, in a log or in an error.
 */
export const RESTIC_BINARY = '/usr/bin/restic';

/** restic's answer when another process holds the repository's exclusive lock (a prune). */
const LOCKED = /repository is already locked exclusively/;
/** How long a backup or restore waits for a prune to finish before it fails. */
const LOCK_WAIT_MS = 10 * 60_000;

/** A running restic's invocation: its argv prefix (binary and global options) and environment. */
export interface ResticTarget {
  readonly prefix: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/** A snapshot's parts: the stable tags part=<part> and the stdin file names <site>/<file>. */
export type BackupPart = 'database' | 'files' | 'manifest';

export const PART_FILES: Readonly<Record<BackupPart, string>> = { database: 'database.sql', files: 'files.tar', manifest: 'manifest.json' };

/** Stable tags (retention groups by site; restores find a backup's parts by them), never a per-run id but the Backup's name. */
export function backupTags(site: string, id: string, part: BackupPart, backup: string): string[] {
  return ['pressluft', `site=${site}`, `site-id=${id}`, `part=${part}`, `backup=${backup}`];
}

/** `restic backup --stdin`'s arguments (after the prefix): one file from stdin, tagged, at a given time (UTC, restic's format). */
export function backupArgs(options: { readonly filename: string; readonly tags: readonly string[]; readonly host: string; readonly time: Date }): string[] {
  const time = options.time.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
  return ['backup', '--stdin', '--stdin-filename', options.filename, ...options.tags.flatMap((tag) => ['--tag', tag]), '--host', options.host, '--time', time, '--json'];
}

/** The child's environment: the repository and the password file, never on argv; TZ=UTC for --time. */
export function resticEnv(repository: string, passwordFile: string, cacheDir: string): NodeJS.ProcessEnv {
  return { ...BASE_ENV, TZ: 'UTC', RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: cacheDir };
}

/** `rest:http(s)://host/path` with the login put into the URL (for the environment only). */
export function restRepository(repository: string, username: string, password: string): string {
  if (username === '' && password === '') return repository;
  const url = new URL(repository.slice('rest:'.length));
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  return `rest:${url.toString()}`;
}

/** user and host (and port) of an sftp repository: `sftp:[user@]host:/path` or `sftp://[user@]host[:port]/path`. */
export function sftpEndpoint(repository: string): { readonly user?: string; readonly host: string; readonly port?: string } {
  const rest = repository.slice('sftp:'.length);
  if (rest.startsWith('//')) {
    const url = new URL(`ssh:${rest}`);
    return { host: url.hostname, ...(url.username ? { user: decodeURIComponent(url.username) } : {}), ...(url.port ? { port: url.port } : {}) };
  }
  const match = /^(?:([^@:/\s]+)@)?([^:/\s]+):/.exec(rest);
  if (!match?.[2]) throw new Error('the sftp repository is not sftp:[user@]host:/path or sftp://[user@]host[:port]/path');
  return { host: match[2], ...(match[1] ? { user: match[1] } : {}) };
}

/** restic's `-o sftp.command=...`: ssh with the store's key and known_hosts (paths only), never a prompt. restic splits it at spaces. */
export function sftpCommand(repository: string, keyFile: string, knownHostsFile: string): string {
  const { user, host, port } = sftpEndpoint(repository);
  const parts = ['ssh', ...(port ? ['-p', port] : []), ...(user ? ['-l', user] : []), '-i', keyFile, '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', host, '-s', 'sftp'];
  for (const part of parts) if (/[\s"'\\]/.test(part) || part === '') throw new Error('the sftp command would hold a space or quote');
  return parts.join(' ');
}

/** The status line of `restic backup --json`, or undefined for anything else. */
export function parseResticStatus(line: string): { bytes: number; files: number } | undefined {
  if (!line.startsWith('{')) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (m['message_type'] !== 'status') return undefined;
  const bytes = m['bytes_done'];
  const files = m['files_done'];
  return { bytes: typeof bytes === 'number' ? bytes : 0, files: typeof files === 'number' ? files : 0 };
}

/**
 * The summary line of `restic backup --json` (the last JSON object with message_type "summary").
 * restic 0.14 gives the short snapshot id (8 hex digits), later versions the full one.
 */
export function parseResticSummary(stdout: string): { snapshotId: string; bytesAdded: number; totalBytes: number } | undefined {
  for (const line of stdout.split('\n').reverse()) {
    if (!line.trim().startsWith('{')) continue;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof message !== 'object' || message === null) continue;
    const m = message as Record<string, unknown>;
    if (m['message_type'] !== 'summary') continue;
    const id = m['snapshot_id'];
    const added = m['data_added'];
    const total = m['total_bytes_processed'];
    if (typeof id !== 'string' || !/^[0-9a-f]{8,64}$/.test(id) || typeof added !== 'number' || typeof total !== 'number') return undefined;
    return { snapshotId: id, bytesAdded: added, totalBytes: total };
  }
  return undefined;
}

/** From `restic ls --json`'s lines: the path of the one regular file whose name is `file`. Pure. */
export function findSnapshotFile(lsOutput: string, file: string): string {
  const paths: string[] = [];
  for (const line of lsOutput.split('\n')) {
    if (!line.startsWith('{')) continue;
    const node = JSON.parse(line) as Record<string, unknown>;
    if (node['struct_type'] === 'node' && node['type'] === 'file' && node['name'] === file && typeof node['path'] === 'string') paths.push(node['path']);
  }
  if (paths.length !== 1 || !paths[0]) throw new StepError('validate', 'BackupInvalid', `the snapshot holds ${paths.length} files named ${file}, not one`);
  return paths[0];
}

/** A snapshot id as the wire carries it: 8 to 64 lowercase hex digits (never an option, never a path). */
export function checkSnapshotId(id: string): string {
  if (!/^[0-9a-f]{8,64}$/.test(id)) throw new StepError('validate', 'BackupInvalid', `snapshot id ${JSON.stringify(id)} is not a restic snapshot id`);
  return id;
}

/** One use of a store: its credential files exist while it is open; close() removes them. */
export class ResticSession implements ResticTarget {
  private constructor(
    readonly prefix: readonly string[],
    readonly env: NodeJS.ProcessEnv,
    /** What must never appear in a message: the password, the REST login, the key. */
    readonly secrets: readonly string[],
    private readonly dir: string,
  ) {}

  /**
   * Credentials into <stateDir>/restic/run-<random>/restic (0700, restic's user; the run dir
   * itself 0711 root, for the agent's own private files), the cache in
   * <stateDir>/restic/cache-<uid>. `user`: whom restic runs as (undefined: root).
   */
  static async open(stateDir: string, store: ResticStore, user?: Ownership, binary = RESTIC_BINARY): Promise<ResticSession> {
    const base = join(stateDir, 'restic');
    const owner = user ?? { uid: 0, gid: 0 };
    await ensureDir(stateDir, { mode: 0o711 });
    await ensureDir(base, { mode: 0o711 });
    const cache = join(base, `cache-${owner.uid}`);
    await ensureDir(cache, { mode: 0o700, owner });
    const dir = join(base, `run-${randomBytes(6).toString('hex')}`);
    const own = join(dir, 'restic');
    await ensureDir(dir, { mode: 0o711 });
    try {
      await ensureDir(own, { mode: 0o700, owner });
      if (store.password === '') throw new Error('the backup store has no repository password');
      await Dir.with(own, [], async (d) => {
        await d.writeFileAtomic('password', `${store.password}\n`, { mode: 0o600, owner });
        if (store.repository.startsWith('sftp:')) {
          await d.writeFileAtomic('ssh-key', store.sshPrivateKey.endsWith('\n') ? store.sshPrivateKey : `${store.sshPrivateKey}\n`, { mode: 0o600, owner });
          await d.writeFileAtomic('known_hosts', `${store.sshKnownHosts}\n`, { mode: 0o600, owner });
        }
      });
      const repository = store.repository.startsWith('rest:') ? restRepository(store.repository, store.restUsername, store.restPassword) : store.repository;
      const options = store.repository.startsWith('sftp:') ? ['-o', `sftp.command=${sftpCommand(store.repository, join(own, 'ssh-key'), join(own, 'known_hosts'))}`] : [];
      const secrets = [repository === store.repository ? '' : repository, store.password, store.restPassword, encodeURIComponent(store.restPassword), store.sshPrivateKey].filter((s) => s !== '');
      const runAs = user ? ['/usr/bin/setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--no-new-privs', '--'] : [];
      return new ResticSession([...runAs, binary, ...options], resticEnv(repository, join(own, 'password'), cache), secrets, dir);
    } catch (error) {
      await removeTree(dir);
      throw error;
    }
  }

  close(): Promise<void> {
    return removeTree(this.dir);
  }

  /**
   * Snapshots forgotten (a failed backup's parts). A restic killed mid-way leaves its lock behind;
   * `restic unlock` first removes such stale locks (never a live one), or forget could not lock.
   */
  async forget(ids: readonly string[]): Promise<void> {
    await this.unlockStale();
    if (ids.length > 0) await this.run(['forget', ...ids.map(checkSnapshotId)]);
  }

  /** Removes the locks of restic processes that are gone (this node's, killed by the agent); live ones stay. */
  async unlockStale(): Promise<void> {
    await this.run(['unlock'], 120_000);
  }

  /** A root-only 0600 file in the session's dir (a client's defaults file); removed with the session. Its path. */
  async privateFile(name: string, content: string): Promise<string> {
    await Dir.with(this.dir, [], (d) => d.writeFileAtomic(name, content, { mode: 0o600 }));
    return join(this.dir, name);
  }

  /** The path inside a snapshot of its one file named `<site>/<file>` (a restore does not know the backup's site name). */
  async snapshotFile(snapshot: string, file: string): Promise<string> {
    return findSnapshotFile(await this.run(['ls', '--json', checkSnapshotId(snapshot)], 120_000), file);
  }

  /** restic with `args`; a failure rejects with the argv's verb and the stderr's tail, secrets redacted. */
  async run(args: readonly string[], timeoutMs = 600_000): Promise<string> {
    const result = await exec([...this.prefix, ...args], { env: this.env, timeoutMs, maxOutputBytes: 16 * 1024 * 1024 });
    if (result.code !== 0 || result.signal) throw new Error(this.redact(`restic ${args[0] ?? ''} ${describeExit(result.code, result.signal)}: ${tail(result.stderr || result.stdout)}`));
    return result.stdout;
  }

  /** `restic backup --stdin` of a small text (the manifest): its summary. */
  async storeStdin(args: readonly string[], text: string): Promise<{ snapshotId: string; bytesAdded: number; totalBytes: number }> {
    const result = await exec([...this.prefix, ...args], { env: this.env, input: text, timeoutMs: 600_000 });
    const summary = parseResticSummary(result.stdout);
    if (result.code !== 0 || result.signal || !summary) throw new Error(this.redact(`restic backup ${describeExit(result.code, result.signal)}${summary ? '' : ' without a summary'}: ${tail(result.stderr)}`));
    return summary;
  }

  /**
   * `task` again while the repository is locked exclusively (the control plane's retention prunes
   * it; restic 0.14 has no --retry-lock), every 2 s up to `waitMs`; any other failure at once.
   */
  private async waitUnlocked<T>(task: () => Promise<T>, waitMs: number): Promise<T> {
    const until = Date.now() + waitMs;
    for (;;) {
      try {
        return await task();
      } catch (error) {
        if (!(error instanceof Error) || !LOCKED.test(error.message) || Date.now() >= until) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, Math.max(0, until - Date.now()))));
      }
    }
  }

  redact(text: string): string {
    return redact(text, this.secrets);
  }

  /**
   * The repository exists afterwards: `restic cat config` answers, or `restic init` makes it (a
   * concurrent init by another backup is fine: config is checked again). BackupStoreUnreachable otherwise.
   */
  async ensureRepository(create: boolean, lockWaitMs = LOCK_WAIT_MS): Promise<void> {
    const exists = () => this.waitUnlocked(() => this.run(['cat', 'config'], 120_000).then(() => undefined), lockWaitMs);
    const first = await exists().catch((error: unknown) => error as Error);
    if (!first) return;
    if (!create) throw new StepError('store', 'BackupStoreUnreachable', `the backup repository cannot be opened: ${first.message}`);
    const init = await this.run(['init'], 120_000).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    if (!init) return;
    const again = await exists().catch((error: unknown) => error as Error);
    if (again) throw new StepError('store', 'BackupStoreUnreachable', `the backup repository cannot be opened or created: ${init.message}`);
  }
}
