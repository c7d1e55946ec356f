import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreAccess } from '../backup-stores/backup-store.secrets.js';
import type { ControlPlaneConfig } from '../config/control-plane.config.js';
import { Restic } from './restic.js';

/** Runs restic as a test would by hand: the repository and password in the environment. */
function resticCli(access: { url: string; password: string }, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'restic',
      args,
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', RESTIC_REPOSITORY: access.url, RESTIC_PASSWORD: access.password, RESTIC_CACHE_DIR: join(root, 'cli-cache') } },
      (error, stdout, stderr) => (error ? reject(new Error(`restic ${args[0] ?? ''}: ${stderr}`)) : resolve(stdout)),
    );
    child.stdin?.end(input ?? '');
  });
}

let root: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Restic (the control plane restic adapter) against real repositories', () => {
  let restic: Restic;
  let privateTmp: string;
  let rclone: ChildProcess | undefined;
  const previousTmp = process.env['TMPDIR'];

  const snapshot = async (repo: { url: string; password: string }, tag: string) => {
    await resticCli(repo, ['backup', '--stdin', '--stdin-filename', 'db.sql', '--tag', tag, '-q'], `data ${tag} ${randomBytes(8).toString('hex')}\n`);
    const list = JSON.parse(await resticCli(repo, ['snapshots', '--json', '--tag', tag])) as Array<{ id: string }>;
    return list[0]?.id ?? '';
  };
  const ids = async (repo: { url: string; password: string }) => (JSON.parse(await resticCli(repo, ['snapshots', '--json'])) as Array<{ id: string }>).map((s) => s.id).sort();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'plt-restic-'));
    // The adapter's private directories go here (os.tmpdir() follows TMPDIR): the test can see that none is left.
    privateTmp = mkdtempSync(join(root, 'tmp-'));
    process.env['TMPDIR'] = privateTmp;
    restic = new Restic({ backups: { resticCacheDir: join(root, 'cache'), retentionEveryMs: 3_600_000 } } as ControlPlaneConfig);
  });

  afterAll(() => {
    rclone?.kill('SIGTERM');
    if (previousTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previousTmp;
    rmSync(root, { recursive: true, force: true });
  });

  it('forgets the given snapshots and prunes; ids already gone are skipped; two sessions on one repository run one after the other', async () => {
    const repo = { url: join(root, 'local-repo'), password: randomBytes(16).toString('hex') };
    await resticCli(repo, ['init']);
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((tag) => snapshot(repo, tag)));
    const access: StoreAccess = { repository: repo.url, password: repo.password };

    await restic.forget(access, [a ?? '', b ?? '']);
    expect(await ids(repo)).toEqual([c, d].sort());
    // A retry after the forget went through (the Backups were not removed yet) is not an error.
    await restic.forget(access, [a ?? '', (c ?? '').slice(0, 8)]);
    expect(await ids(repo)).toEqual([d]);
    // Both need restic's exclusive lock: run at once, the second would fail without the adapter's queue.
    const [e, f] = await Promise.all(['e', 'f'].map((tag) => snapshot(repo, tag)));
    await Promise.all([restic.forget(access, [e ?? '']), restic.forget(access, [f ?? ''])]);
    expect(await ids(repo)).toEqual([d]);
    expect(readdirSync(privateTmp)).toEqual([]);
  });

  it('fails with restic words but never the password, and leaves no secret file behind', async () => {
    const repo = { url: join(root, 'other-repo'), password: randomBytes(16).toString('hex') };
    await resticCli(repo, ['init']);
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const error = await restic.forget({ repository: repo.url, password: wrong }, ['0123456789abcdef']).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^restic forget 0123456789abcdef exited with code 1: .*wrong password/s);
    expect((error as Error).message).not.toContain(wrong);
    expect(readdirSync(privateTmp)).toEqual([]);
  });

  it('reaches a REST repository with basic auth (rclone serve restic on loopback), the credentials only in its environment', async () => {
    const port = await freePort();
    const user = 'backup';
    const pass = `p@ss ${randomBytes(6).toString('hex')}`;
    rclone = spawn('rclone', ['serve', 'restic', '--config', '', '--addr', `127.0.0.1:${port}`, '--user', user, '--pass', pass, join(root, 'rest-data')], { stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}/`;
    const repo = { url: `rest:http://${user}:${encodeURIComponent(pass)}@127.0.0.1:${port}/`, password: randomBytes(16).toString('hex') };
    for (let attempt = 0; ; attempt++) {
      try {
        await resticCli(repo, ['init']);
        break;
      } catch (error) {
        if (attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const [a, b] = await Promise.all(['a', 'b'].map((tag) => snapshot(repo, tag)));
    await restic.forget({ repository: `rest:${base}`, password: repo.password, restUsername: user, restPassword: pass }, [a ?? '']);
    expect(await ids(repo)).toEqual([b]);

    const error = await restic.forget({ repository: `rest:${base}`, password: repo.password, restUsername: user, restPassword: 'not-the-password' }, [b ?? '']).catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/401/);
    expect((error as Error).message).not.toContain('not-the-password');
    expect(await ids(repo)).toEqual([b]);
  });
});
