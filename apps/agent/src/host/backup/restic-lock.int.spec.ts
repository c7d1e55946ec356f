import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResticSession } from './restic.js';

/*
 * The control plane's retention prunes a store (restic's exclusive lock) while an agent may be
 * starting a backup or a restore into it; restic 0.14 fails at once on a locked repository and has
 * no --retry-lock. The agent waits for the lock instead of failing the command.
 */

const dir = mkdtempSync(join(tmpdir(), 'pressluft-lock-'));
const repository = join(dir, 'repo');
const store = { repository, password: 'lock-test-password', sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' };
let session: ResticSession;

/** Whether `pid` is stopped (SIGSTOP) now, by /proc/<pid>/stat's state. */
function stopped(pid: number): boolean {
  try {
    return / T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^\d+ \(.*\) /, ' ').slice(0, 3));
  } catch {
    return false;
  }
}

/**
 * A lock file restic has finished writing: the local backend creates it, writes it, then makes it
 * read-only. A half-written one is skipped by other restic processes (they cannot load it).
 */
function lockWritten(): boolean {
  const dir = join(repository, 'locks');
  return readdirSync(dir).some((name) => {
    const st = statSync(join(dir, name), { throwIfNoEntry: false });
    return st !== undefined && st.size > 0 && (st.mode & 0o222) === 0;
  });
}

/**
 * A `restic prune` that holds the exclusive lock, stopped (SIGSTOP) as soon as its lock file
 * is written. On a loaded machine the prune may finish between the look and the signal: then it is
 * started again, until one is caught holding its lock.
 */
async function frozenPrune(): Promise<{ resume(): void; done: Promise<number | null> }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const child = spawn(session.prefix[0]!, [...session.prefix.slice(1), 'prune'], { env: session.env, stdio: 'ignore' });
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let i = 0; i < 2000 && child.exitCode === null; i++) {
      if (lockWritten()) {
        child.kill('SIGSTOP');
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 50));
    if (child.pid !== undefined && stopped(child.pid) && lockWritten()) return { resume: () => child.kill('SIGCONT'), done };
    child.kill('SIGCONT');
    await done;
  }
  throw new Error('no restic prune was caught holding its lock in 10 tries');
}

describe('ResticSession waits while the repository is locked exclusively', () => {
  beforeAll(async () => {
    session = await ResticSession.open(join(dir, 'state'), store);
    await session.ensureRepository(true);
  });

  afterAll(async () => {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a prune holding the lock makes it wait, not fail; it goes on once the prune is done', async () => {
    const prune = await frozenPrune();
    const started = Date.now();
    const timer = setTimeout(() => prune.resume(), 3000);
    try {
      await session.ensureRepository(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    } finally {
      // Never leave a stopped restic behind, whatever happened.
      clearTimeout(timer);
      prune.resume();
    }
    expect(await prune.done).toBe(0);
  }, 60_000);

  it('gives up after its wait with restic own message', async () => {
    const prune = await frozenPrune();
    try {
      await expect(session.ensureRepository(false, 1500)).rejects.toThrow(/already locked exclusively/);
    } finally {
      prune.resume();
      await prune.done;
    }
  }, 60_000);
});
