import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execOk } from '../exec.js';
import { clientArgv } from '../mariadb.js';
import { dumpDatabaseToRestic, type DatabaseDumpOptions } from './database-dump.js';
import { backupArgs, backupTags, resticEnv, ResticSession } from './restic.js';

const services = inject('services');
const admin = ['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`];
const suffix = randomBytes(4).toString('hex');
const small = `pl_dump_${suffix}`;
const big = `pl_dumpbig_${suffix}`;
const password = randomBytes(24).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'pressluft-dump-'));
const repository = join(dir, 'repo');
const passwordFile = join(dir, 'restic-password');
const env = resticEnv(repository, passwordFile, join(dir, 'cache'));
let session: ResticSession;

const sql = (text: string) => execOk(clientArgv(admin), { input: text, timeoutMs: 120_000 });
const restic = (...args: string[]) => execOk(['/usr/bin/restic', ...args], { env, timeoutMs: 120_000 });

interface Snapshot {
  readonly id: string;
  readonly tags?: readonly string[];
  readonly hostname: string;
  readonly paths: readonly string[];
}
const snapshotsOf = async (site: string): Promise<Snapshot[]> => JSON.parse(await restic('snapshots', '--json', '--tag', `site=${site}`)) as Snapshot[];

const options = (site: string, database: string, extra: Partial<DatabaseDumpOptions> = {}): DatabaseDumpOptions => ({
  mariadbCommand: admin,
  restic: session,
  database,
  backupArgs: backupArgs({ filename: `${site}/database.sql`, tags: backupTags(site, 'abcd1234', 'database', `${site}-1`), host: 'node-test', time: new Date() }),
  ...extra,
});

/** The error a dump rejects with (fails the test if it resolves). */
async function failureOf(dump: Promise<unknown>): Promise<Error> {
  const outcome = await dump.then(
    (result) => new Error(`expected a rejection, got ${JSON.stringify(result)}`),
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error) || outcome.message.startsWith('expected a rejection')) throw outcome;
  return outcome;
}

/** Kills the first mariadb-dump of `database` once it has run for a moment (it then waits on the pipe to restic). */
async function killDumpOf(database: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      const cmdline = (() => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        } catch {
          return [];
        }
      })();
      if (cmdline[0] === '/usr/bin/mariadb-dump' && cmdline.includes(database)) {
        await new Promise((r) => setTimeout(r, 300));
        process.kill(Number(pid), 'SIGKILL');
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no mariadb-dump of ${database} seen`);
}

describe('dumpDatabaseToRestic on the harness MariaDB and a real restic repository', () => {
  beforeAll(async () => {
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    session = await ResticSession.open(join(dir, 'state'), { repository, password, sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' });
    await session.ensureRepository(true);
    await sql(
      [
        `CREATE DATABASE ${small} CHARACTER SET utf8mb4;`,
        `CREATE TABLE ${small}.posts (id INT PRIMARY KEY, title VARCHAR(100)) ENGINE=InnoDB;`,
        `INSERT INTO ${small}.posts VALUES (1, 'hello-${suffix}'), (2, 'world-${suffix}');`,
        `CREATE TABLE ${small}.counters (name VARCHAR(20) PRIMARY KEY, hits INT) ENGINE=MyISAM;`,
        `INSERT INTO ${small}.counters VALUES ('front-${suffix}', 42);`,
        `CREATE DATABASE ${big} CHARACTER SET utf8mb4;`,
        `CREATE TABLE ${big}.filler (id INT PRIMARY KEY, body TEXT) ENGINE=InnoDB;`,
        `USE ${big};`,
        `INSERT INTO filler SELECT seq, REPEAT('x', 200) FROM seq_1_to_300000;`,
        '',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    await session.close();
    await sql(`DROP DATABASE IF EXISTS ${small};\nDROP DATABASE IF EXISTS ${big};\n`).catch((e: unknown) => console.error('cleanup of the test databases failed:', e));
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a dump into a tagged snapshot that restores the rows; the MyISAM table is reported and locked for', async () => {
    const result = await dumpDatabaseToRestic(options('blog', small));
    expect(result.nonInnodbTables).toEqual(['counters']);
    expect(result.snapshotId).toMatch(/^[0-9a-f]{8,64}$/);
    expect(result.totalBytes).toBeGreaterThan(0);
    expect(result.bytesAdded).toBeGreaterThan(0);
    expect(result.seconds).toBeGreaterThan(0);
    const snapshots = await snapshotsOf('blog');
    expect(snapshots.map((s) => s.id.slice(0, result.snapshotId.length))).toEqual([result.snapshotId]);
    expect(snapshots[0]?.tags).toEqual(['pressluft', 'site=blog', 'site-id=abcd1234', 'part=database', 'backup=blog-1']);
    expect(snapshots[0]?.hostname).toBe('node-test');
    const text = await restic('dump', result.snapshotId, 'blog/database.sql');
    expect(text).toContain(`hello-${suffix}`);
    expect(text).toContain(`front-${suffix}`);
    expect(text.trimEnd().split('\n').pop()).toMatch(/^-- Dump completed/);
  });

  it('an InnoDB-only database reports no other tables (dumped in one transaction)', async () => {
    const result = await dumpDatabaseToRestic(options('large', big));
    expect(result.nonInnodbTables).toEqual([]);
    expect(result.totalBytes).toBeGreaterThan(300_000 * 200);
    expect((await snapshotsOf('large')).map((s) => s.id.slice(0, result.snapshotId.length))).toEqual([result.snapshotId]);
  });

  it('a database that does not exist: rejects, no snapshot', async () => {
    const error = await failureOf(dumpDatabaseToRestic(options('missing', `pl_missing_${suffix}`)));
    expect(error.message).toMatch(/mariadb-dump exited with code 2/);
    expect(error.message).toMatch(/saved no snapshot/);
    expect(error.message).not.toContain(password);
    expect(await snapshotsOf('missing')).toEqual([]);
  });

  it('a dump killed mid-way: rejects naming the signal, no snapshot', async () => {
    const [error] = await Promise.all([failureOf(dumpDatabaseToRestic(options('killed', big))), killDumpOf(big)]);
    expect(error.message).toMatch(/mariadb-dump killed by SIGKILL/);
    expect(error.message).not.toContain(password);
    expect(await snapshotsOf('killed')).toEqual([]);
  });

  it('a timeout kills both: rejects, no snapshot', async () => {
    const error = await failureOf(dumpDatabaseToRestic(options('slow', big, { timeoutMs: 400 })));
    expect(error.message).toMatch(/timed out/);
    expect(await snapshotsOf('slow')).toEqual([]);
  });

  it('a dump that exits 0 without the trailer: rejects, no snapshot', async () => {
    const fake = join(dir, 'truncated-dump');
    writeFileSync(fake, "#!/bin/sh\nprintf -- '-- MariaDB dump\\nCREATE TABLE t (a int);\\nINSERT INTO t VALUES (1'\n");
    chmodSync(fake, 0o700);
    const error = await failureOf(dumpDatabaseToRestic(options('truncated', small, { dumpBinary: fake })));
    expect(error.message).toMatch(/does not end with "-- Dump completed"/);
    expect(await snapshotsOf('truncated')).toEqual([]);
  });

  it('restic failing (a wrong repository) kills the dump and rejects without the password', async () => {
    const nowhere = await ResticSession.open(join(dir, 'state'), { repository: join(dir, 'nowhere'), password, sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' });
    const error = await failureOf(dumpDatabaseToRestic(options('norepo', big, { restic: nowhere })));
    await nowhere.close();
    expect(error.message).toMatch(/restic backup of .* exited with code 1 without a summary: Fatal: unable to open config file.*mariadb-dump was stopped/s);
    expect(error.message).not.toContain(password);
  });
});
