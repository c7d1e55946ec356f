import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResticStore } from '@pressluft/agent-runtime';
import { createLogger } from '@pressluft/platform';
import type { BackupResult, SiteConfig } from '@pressluft/proto';
import { freePort, ManagedProcess, portOpen } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resticEnv } from './backup/restic.js';
import { execOk } from './exec.js';
import { clientArgv } from './mariadb.js';
import { sitePaths } from './naming.js';
import { requireUser } from './users.js';
import { RespConnection, type RespValue } from './resp.js';
import { hostHarness, QUIET, RecordingReporter, siteLoad, siteRequest } from '../../test/host-harness.js';
import { SiteHost, StepError } from './site-host.js';

const services = inject('services');
const admin = ['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`];
const suffix = randomBytes(3).toString('hex');
const id = randomBytes(8).toString('hex').replace(/[^0-9a-z]/g, '').slice(0, 8).padEnd(8, '0');
const SITE: SiteConfig = {
  name: `bk-${suffix}`,
  id,
  environment: 'production',
  domains: [`bk-${suffix}.example.test`],
  php: { version: '8.2', memoryLimitMb: 192, maxChildren: 4, uploadMaxMb: 16 },
  wordpress: { version: '6.1', title: `Backups ${suffix}`, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
  resources: { cpuPercent: 100, memoryMib: 384 },
  keepReleases: 3,
};
const domain = SITE.domains[0] ?? '';
const database = `site_${id}`;
const password = randomBytes(18).toString('hex');

const sql = (text: string) => execOk(clientArgv(admin), { input: text, timeoutMs: 300_000 });
const http = (path = '/') => siteRequest(services, domain, path);

/** The error an operation rejects with (fails the test if it resolves). */
async function failureOf(operation: Promise<unknown>): Promise<StepError> {
  const outcome = await operation.then(
    (result) => new Error(`expected a rejection, got ${JSON.stringify(result)}`),
    (error: unknown) => error,
  );
  if (!(outcome instanceof StepError)) throw outcome;
  return outcome;
}

describe('backups and restores of a real site with restic, MariaDB, PHP-FPM and nginx', () => {
  const harness = hostHarness(services, `pressluft-bk-${suffix}`, { node: 'node-bk', redis: services.redis });
  const { root, settings } = harness;
  const host = new SiteHost(settings, createLogger({ name: 'backup-test', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const paths = sitePaths(settings, SITE.name, SITE.id);
  const repository = join(root, 'repo');
  const store: ResticStore = { repository, password, sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' };
  const passwordFile = join(root, 'restic-password');
  const restic = (...args: string[]) => execOk(['/usr/bin/restic', ...args], { env: resticEnv(repository, passwordFile, join(root, 'restic-cache')), timeoutMs: 120_000 });
  const snapshotsTagged = async (tag: string) => JSON.parse(await restic('snapshots', '--json', '--tag', tag)) as { id: string; tags: string[]; hostname: string }[];
  const uploadsFile = join(paths.uploads, '2026', 'marker.txt');
  let owner: { uid: number; gid: number };

  const post = async () => (await sql(`SELECT post_title FROM ${database}.wp_posts WHERE post_name = 'marker-${suffix}';\n`)).trim();
  const option = async () => (await sql(`SELECT option_value FROM ${database}.wp_options WHERE option_name = 'pressluft_marker';\n`)).trim();

  beforeAll(async () => {
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    await host.provision(SITE, QUIET);
    const st = statSync(paths.root);
    owner = { uid: st.uid, gid: statSync(paths.releases).gid };
    // Content: a post, an option and an upload.
    await sql(
      [
        `INSERT INTO ${database}.wp_posts (post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_type)`,
        `VALUES (1, NOW(), UTC_TIMESTAMP(), 'Body ${suffix}', 'Marker ${suffix}', '', 'publish', 'marker-${suffix}', '', '', NOW(), UTC_TIMESTAMP(), '', 'post');`,
        `INSERT INTO ${database}.wp_options (option_name, option_value, autoload) VALUES ('pressluft_marker', 'before-${suffix}', 'yes');`,
        '',
      ].join('\n'),
    );
    mkdirSync(join(paths.uploads, '2026'));
    chownSync(join(paths.uploads, '2026'), st.uid, st.uid);
    writeFileSync(uploadsFile, `upload ${suffix}\n`);
    chownSync(uploadsFile, st.uid, st.uid);
  }, 180_000);

  afterAll(async () => {
    await host.remove(SITE.name, SITE.id, QUIET).catch((e: unknown) => console.error('cleanup failed:', e));
    await host.stopAll().catch(() => undefined);
    harness.cleanup();
  }, 120_000);

  let first: BackupResult;

  it('backs up the database, the current release with the uploads, and a manifest as three tagged snapshots', async () => {
    const reporter = new RecordingReporter();
    first = await host.backup({ name: SITE.name, id: SITE.id, backup: `${SITE.name}-one`, store }, reporter);
    expect([...new Set(reporter.steps)]).toEqual(['validate', 'store', 'database', 'files', 'manifest']);
    const releases = readdirSync(paths.releases);
    expect(first.release).toBe(releases[0]);
    expect(first.wordpressVersion).toMatch(/^6\.1/);
    expect(first.files).toBeGreaterThan(1000);
    expect(first.bytesTotal).toBeGreaterThan(first.files);
    expect(first.bytesAdded).toBeGreaterThan(0);
    expect(first.snapshotTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const snapshots = await snapshotsTagged(`backup=${SITE.name}-one`);
    expect(snapshots).toHaveLength(3);
    for (const snapshot of snapshots) {
      expect(snapshot.hostname).toBe('node-bk');
      expect(snapshot.tags.slice(0, 3)).toEqual(['pressluft', `site=${SITE.name}`, `site-id=${SITE.id}`]);
    }
    const manifest = JSON.parse(await restic('dump', first.snapshots?.manifest ?? '', `${SITE.name}/manifest.json`)) as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: 1, site: SITE.name, id: SITE.id, domains: [domain], release: first.release, wordpressVersion: first.wordpressVersion });
    const listing = await execOk(['/bin/sh', '-c', `restic dump "$0" "$1" | tar -t`, first.snapshots?.files ?? '', `${SITE.name}/files.tar`], { env: resticEnv(repository, passwordFile, join(root, 'restic-cache')), timeoutMs: 120_000 });
    expect(listing).toContain('shared/uploads/2026/marker.txt');
    expect(listing).toContain(`releases/${first.release}/wp-includes/version.php`);
    // No credential file outlives the backup.
    expect(readdirSync(join(settings.stateDir, 'restic')).filter((n) => n.startsWith('run-'))).toEqual([]);
  }, 180_000);

  it('restores the damaged site: post, option and upload back, GET / answering 200 throughout', async () => {
    await sql(`DELETE FROM ${database}.wp_posts WHERE post_name = 'marker-${suffix}';\nUPDATE ${database}.wp_options SET option_value = 'broken' WHERE option_name = 'pressluft_marker';\nCREATE TABLE ${database}.wp_added_later (a INT);\n`);
    unlinkSync(uploadsFile);
    expect(await post()).toBe('');
    const before = readFileSync(join(paths.root, 'current', 'index.php'), 'utf8');
    // What a crashed restore leaves behind: removed first.
    await sql(`CREATE DATABASE ${database}_rs;\nCREATE TABLE ${database}_rs.stale (a INT);\nCREATE DATABASE ${database}_old;\n`);
    mkdirSync(join(paths.releases, '.restore-crashed'));
    mkdirSync(join(paths.shared, '.uploads-old-crashed'));
    const traffic = siteLoad(services, domain, 3);
    const reporter = new RecordingReporter();
    const result = await host.restore({ site: SITE, backup: `${SITE.name}-one`, snapshots: first.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: SITE.domains, store, parts: [] }, reporter);
    const answers = await traffic.stop();
    expect(answers.filter((a) => a.outcome !== '200')).toEqual([]);
    expect(answers.length).toBeGreaterThan(5);
    // database and files run side by side: their progress interleaves.
    expect([...new Set(reporter.steps)]).toEqual(['validate', 'restore', 'store', 'database', 'files', 'release', 'health', 'switch', 'prune']);
    expect(result.currentRelease).not.toBe(first.release);
    expect(result.releases).toContain(first.release);
    expect(await post()).toBe(`Marker ${suffix}`);
    expect(await option()).toBe(`before-${suffix}`);
    expect(readFileSync(uploadsFile, 'utf8')).toBe(`upload ${suffix}\n`);
    expect(statSync(uploadsFile).uid).toBe(owner.uid);
    // shared/uploads as ensureTree makes it: nginx (by group) serves the uploads again.
    expect(statSync(paths.uploads)).toMatchObject({ uid: owner.uid, gid: (await requireUser(settings.nginx.user)).gid });
    expect(statSync(paths.uploads).mode & 0o777).toBe(0o750);
    expect(readFileSync(join(paths.root, 'current', 'index.php'), 'utf8')).toBe(before);
    // The database holds exactly the backup's tables; the release reads the shared wp-config.php again.
    expect((await sql(`SHOW TABLES FROM ${database} LIKE 'wp_added_later';\n`)).trim()).toBe('');
    expect(readlinkSync(join(paths.releases, result.currentRelease ?? '', 'wp-config.php'))).toBe('../../shared/wp-config.php');
    const front = await http();
    expect(front.status).toBe(200);
    expect(front.body).toContain(`Marker ${suffix}`);
    // Nothing staged is left: no staging or old database, no restore dir, no old uploads.
    expect((await sql(`SHOW DATABASES LIKE '${database}\\_%';\n`)).trim()).toBe('');
    expect(readdirSync(paths.releases).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(readdirSync(paths.shared).sort()).toEqual(['uploads', 'wp-config.php']);
    expect((await sql(`SHOW GRANTS FOR '${database}'@'localhost';\n`))).not.toContain('_rs');
  }, 300_000);

  it("restores a backup into another site (a copy): its URLs rewritten to the copy's domain before the health check, its Redis cache flushed", async () => {
    const copy: SiteConfig = { ...SITE, name: `cp-${suffix}`, id: `${id.slice(0, 7)}${id.endsWith('c') ? 'd' : 'c'}`, domains: [`cp-${suffix}.example.test`], cache: { redis: true } };
    await host.provision(copy, QUIET);
    try {
      const staleKey = `site_${copy.id}:stale-option`;
      expect(await redisAdmin(['SET', staleKey, 'old'])).toBe('OK');
      const reporter = new RecordingReporter();
      await host.restore({ site: copy, backup: `${SITE.name}-one`, snapshots: first.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: SITE.domains, store, parts: [] }, reporter);
      expect(reporter.steps).toContain('wordpress');
      expect(await redisAdmin(['EXISTS', staleKey])).toBe(0);
      expect(reporter.lines.some((line) => /^redis site_\w+: \d+ cached keys flushed$/.test(line))).toBe(true);
      const copyDb = `site_${copy.id}`;
      expect((await sql(`SELECT option_value FROM ${copyDb}.wp_options WHERE option_name IN ('home', 'siteurl');\n`)).trim().split('\n')).toEqual([`http://${copy.domains[0]}`, `http://${copy.domains[0]}`]);
      expect((await sql(`SELECT post_title FROM ${copyDb}.wp_posts WHERE post_name = 'marker-${suffix}';\n`)).trim()).toBe(`Marker ${suffix}`);
      const front = await siteRequest(services, copy.domains[0] ?? '', '/');
      expect(front.status).toBe(200);
      expect(front.body).toContain(`Marker ${suffix}`);
      expect(front.body).not.toContain(domain);
      // The source site is untouched.
      expect(await post()).toBe(`Marker ${suffix}`);
    } finally {
      await host.remove(copy.name, copy.id, QUIET);
    }
  }, 300_000);

  it('a restore whose staged release fails the health check leaves the site serving and its database untouched', async () => {
    // A backup whose index.php answers 500 (a new file: the core copy is hard-linked).
    const index = join(paths.root, 'current', 'index.php');
    const good = readFileSync(index, 'utf8');
    unlinkSync(index);
    writeFileSync(index, '<?php http_response_code(500); echo "broken";\n');
    const bad = await host.backup({ name: SITE.name, id: SITE.id, backup: `${SITE.name}-bad`, store }, QUIET);
    unlinkSync(index);
    writeFileSync(index, good);
    await sql(`UPDATE ${database}.wp_options SET option_value = 'live-${suffix}' WHERE option_name = 'pressluft_marker';\n`);
    const current = readdirSync(paths.releases).sort();
    const failure = await failureOf(host.restore({ site: SITE, backup: `${SITE.name}-bad`, snapshots: bad.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: SITE.domains, store, parts: [] }, QUIET));
    expect(failure.reason).toBe('HealthCheckFailed');
    expect(failure.message).toMatch(/answered HTTP 500/);
    expect(await option()).toBe(`live-${suffix}`);
    expect(readdirSync(paths.releases).sort()).toEqual(current);
    expect((await sql(`SHOW DATABASES LIKE '${database}\\_%';\n`)).trim()).toBe('');
    expect((await http()).status).toBe(200);
  }, 300_000);

  it('a switch that fails after the RENAME (the pool is gone at its reload) puts the tables, the uploads and current back', async () => {
    await sql(`UPDATE ${database}.wp_options SET option_value = 'live-${suffix}' WHERE option_name = 'pressluft_marker';\n`);
    const releasesBefore = readdirSync(paths.releases).sort();
    const currentBefore = readlinkSync(paths.current);
    const uploadsBefore = readdirSync(paths.uploads).sort();
    const recorder = new RecordingReporter();
    let killed = false;
    // The PHP-FPM master dies just after the tables moved: the reload that follows `current` fails.
    const reporter = {
      progress: (step: string, percent: number) => recorder.progress(step, percent),
      log: async (line: string) => {
        if (line.includes('restored tables switched in') && !killed) {
          killed = true;
          const pid = Number(readFileSync(paths.fpmPid, 'utf8').trim());
          process.kill(pid, 'SIGKILL');
          while (existsSync(`/proc/${pid}/stat`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')) await new Promise((r) => setTimeout(r, 20));
        }
        return recorder.log(line);
      },
    };
    const failure = await failureOf(host.restore({ site: SITE, backup: `${SITE.name}-one`, snapshots: first.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: SITE.domains, store, parts: [] }, reporter));
    expect(killed).toBe(true);
    expect(failure.step).toBe('switch');
    expect(failure.message).toMatch(/not running/);
    expect(recorder.lines.some((line) => line.includes('restored tables switched in'))).toBe(true);
    expect(await option()).toBe(`live-${suffix}`);
    expect(readlinkSync(paths.current)).toBe(currentBefore);
    expect(readdirSync(paths.releases).sort()).toEqual(releasesBefore);
    expect(readdirSync(paths.uploads).sort()).toEqual(uploadsBefore);
    expect((await sql(`SHOW DATABASES LIKE '${database}\\_%';\n`)).trim()).toBe('');
    // The supervision brings the pool back; the site serves what it served before.
    await host.supervise(SITE);
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await http()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  }, 300_000);

  it('a dump that fails mid-way fails the backup and leaves no snapshot tagged with its name', async () => {
    await sql(`CREATE TABLE ${database}.filler (id INT PRIMARY KEY, body TEXT) ENGINE=InnoDB;\nUSE ${database};\nINSERT INTO filler SELECT seq, REPEAT('x', 200) FROM seq_1_to_400000;\n`);
    try {
      const killer = killDumpOf(database);
      const failure = await failureOf(host.backup({ name: SITE.name, id: SITE.id, backup: `${SITE.name}-killed`, store }, QUIET));
      await killer;
      expect(failure.reason).toBe('BackupFailed');
      expect(failure.step).toBe('database');
      expect(failure.message).toMatch(/mariadb-dump killed by SIGKILL/);
      expect(failure.message).not.toContain(password);
      expect(await snapshotsTagged(`backup=${SITE.name}-killed`)).toEqual([]);
    } finally {
      await sql(`DROP TABLE ${database}.filler;\n`);
    }
  }, 300_000);

  it('backs up to and restores from a REST repository (rclone serve restic on loopback)', async () => {
    const port = await freePort();
    const dir = join(root, 'rest');
    mkdirSync(dir);
    const server = ManagedProcess.start('rclone', ['/usr/bin/rclone', 'serve', 'restic', '--addr', `127.0.0.1:${port}`, '--user', 'ops', '--pass', 'rest-secret', dir], { logFile: join(root, 'rclone.log') });
    try {
      await server.waitUntil(() => portOpen(port));
      const rest: ResticStore = { ...store, repository: `rest:http://127.0.0.1:${port}/`, restUsername: 'ops', restPassword: 'rest-secret' };
      const stored = await host.backup({ name: SITE.name, id: SITE.id, backup: `${SITE.name}-rest`, store: rest }, QUIET);
      expect(existsSync(join(dir, 'config'))).toBe(true);
      await sql(`UPDATE ${database}.wp_options SET option_value = 'damaged' WHERE option_name = 'pressluft_marker';\n`);
      await host.restore({ site: SITE, backup: `${SITE.name}-rest`, snapshots: stored.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: SITE.domains, store: rest, parts: [] }, QUIET);
      expect(await option()).toBe(`live-${suffix}`);
      expect((await http()).status).toBe(200);
      // A wrong REST password: the store is unreachable, and the password is in no message.
      const wrong = await failureOf(host.backup({ name: SITE.name, id: SITE.id, backup: `${SITE.name}-wrong`, store: { ...rest, restPassword: 'not-the-secret' } }, QUIET));
      expect(wrong.reason).toBe('BackupStoreUnreachable');
      expect(wrong.message).not.toContain('not-the-secret');
    } finally {
      await server.stop();
    }
  }, 300_000);
});

/** One command as the harness Redis's admin. */
async function redisAdmin(args: string[]): Promise<RespValue> {
  const connection = await RespConnection.open(services.redis.socket);
  try {
    const auth = await connection.command(['AUTH', services.redis.adminUser, readFileSync(services.redis.adminPasswordFile, 'utf8').trim()]);
    if (auth !== 'OK') throw new Error(`AUTH: ${JSON.stringify(auth)}`);
    return await connection.command(args);
  } finally {
    connection.close();
  }
}

/** Kills the first mariadb-dump of `database` once it has run for a moment. */
async function killDumpOf(name: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmdline: string[] = [];
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        continue;
      }
      if (cmdline[0] === '/usr/bin/mariadb-dump' && cmdline.includes(name)) {
        await new Promise((r) => setTimeout(r, 200));
        process.kill(Number(pid), 'SIGKILL');
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no mariadb-dump of ${name} seen`);
}



