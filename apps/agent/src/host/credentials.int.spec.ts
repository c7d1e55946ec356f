import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pendingPasswordFile, tryLogin } from './credentials.js';
import { setPasswords } from './mariadb.js';
import { sitePaths } from './naming.js';
import { hostHarness, QUIET, RecordingReporter, siteLoad, siteRequest } from '../../test/host-harness.js';
import { SiteHost } from './site-host.js';
import { lookupUser } from './users.js';

const services = inject('services');

/** The status of GET / through the harness nginx with a Host header. */
const get = async (host: string): Promise<number> => (await siteRequest(services, host)).status;

const suffix = randomBytes(3).toString('hex');
const id = randomBytes(8).toString('hex').replace(/[^0-9a-z]/g, '').slice(0, 8).padEnd(8, '0');
const S: SiteConfig = {
  name: `rot-${suffix}`,
  id,
  environment: 'production',
  domains: [`rot-${suffix}.example.test`],
  php: { version: '8.2', memoryLimitMb: 192, maxChildren: 4, uploadMaxMb: 16 },
  wordpress: { version: '6.1', title: `Rotation ${suffix}`, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
  resources: { cpuPercent: 100, memoryMib: 384 },
  keepReleases: 3,
};
const account = `site_${id}`;
const domain = S.domains[0] ?? '';

describe('DB credential rotation on real nginx, PHP-FPM and MariaDB', () => {
  const harness = hostHarness(services, `pressluft-cred-${suffix}`);
  const { root, settings } = harness;
  // Every log line the host writes, at every level, to search for secrets.
  const logLines: string[] = [];
  const host = new SiteHost(settings, createLogger({ name: 'credentials-test', level: 'trace', destination: { write: (line: string) => void logLines.push(line) } }));
  const paths = sitePaths(settings, S.name, S.id);
  const stored = () => readFileSync(paths.dbPasswordFile, 'utf8').trim();
  const login = (password: string) => tryLogin('/usr/bin/mariadb', root, services.mariadb.socket, account, password);
  const seen: string[] = [];

  beforeAll(async () => {
    await host.provision(S, new RecordingReporter());
  }, 180_000);

  afterAll(async () => {
    await host.remove(S.name, S.id, QUIET).catch((e: unknown) => console.error(`cleanup of ${S.name} failed:`, e));
    await host.stopAll().catch(() => undefined);
    harness.cleanup();
  }, 120_000);

  /** Rotates under 4 concurrent clients on loopback; returns the request counts by status. */
  async function rotateUnderLoad(reporter: RecordingReporter) {
    const traffic = siteLoad(services, domain, 4);
    await new Promise((r) => setTimeout(r, 1_000));
    const started = performance.now();
    const result = await host.rotateDatabasePassword(S.name, S.id, reporter);
    const ms = Math.round(performance.now() - started);
    await new Promise((r) => setTimeout(r, 1_000));
    const counts: Record<string, number> = {};
    for (const { outcome } of await traffic.stop()) counts[outcome] = (counts[outcome] ?? 0) + 1;
    console.log(`rotation took ${ms} ms; requests during it (4 clients, 1 s before and after): ${JSON.stringify(counts)}`);
    expect(Date.parse(result.rotatedAt)).toBeGreaterThan(Date.now() - 60_000);
    return counts;
  }

  it('rotates under load without a failed request; the old password stops working', async () => {
    const old = stored();
    seen.push(old);
    const before = statSync(paths.wpConfig);
    expect(readFileSync(paths.wpConfig, 'utf8')).toContain(old);
    expect(await login(old)).toBe('accepted');

    const reporter = new RecordingReporter();
    const counts = await rotateUnderLoad(reporter);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(20);
    expect(counts).toEqual({ '200': total });

    const next = stored();
    seen.push(next);
    expect(next).not.toBe(old);
    expect(next.length).toBeGreaterThanOrEqual(32);
    expect(reporter.steps).toEqual(['validate', 'database', 'wp-config', 'drain', 'revoke', 'state', 'verify']);
    expect(await login(old)).toBe('denied');
    expect(await login(next)).toBe('accepted');
    const config = readFileSync(paths.wpConfig, 'utf8');
    expect(config).toContain(next);
    expect(config).not.toContain(old);
    const after = statSync(paths.wpConfig);
    expect([after.uid, after.gid, after.mode & 0o7777]).toEqual([before.uid, before.gid, before.mode & 0o7777]);
    expect([after.uid, after.mode & 0o7777]).toEqual([0, 0o640]);
    expect(statSync(paths.dbPasswordFile).mode & 0o7777).toBe(0o600);
    expect(existsSync(pendingPasswordFile(paths))).toBe(false);
    expect(readdirSync(paths.state).filter((f) => f.startsWith('.'))).toEqual([]);
    for (const secret of [old, next]) {
      expect([...reporter.progressLines, ...reporter.lines].join('\n')).not.toContain(secret);
      expect(logLines.join('\n')).not.toContain(secret);
    }
    expect(logLines.some((l) => l.includes('database password rotated'))).toBe(true);
  }, 120_000);

  it('survives a crash after the revoke: provision keeps the site up, the next rotation finishes it', async () => {
    // The state a crash right after `revoke` leaves: the database takes only the pending password,
    // wp-config.php holds it, db-password still the old one.
    const old = stored();
    const pending = randomBytes(16).toString('hex');
    seen.push(pending);
    writeFileSync(pendingPasswordFile(paths), `${pending}\n`, { mode: 0o600 });
    await setPasswords(settings.mariadb.command, account, [pending]);
    const st = statSync(paths.wpConfig);
    writeFileSync(paths.wpConfig, readFileSync(paths.wpConfig, 'utf8').split(old).join(pending));
    expect(statSync(paths.wpConfig).mode & 0o7777).toBe(st.mode & 0o7777);
    expect(await get(domain)).toBe(200);

    // A converge renders the stored password and lets both authenticate: the site keeps working.
    const converge = new RecordingReporter();
    await host.provision(S, converge);
    expect(await get(domain)).toBe(200);
    expect(readFileSync(paths.wpConfig, 'utf8')).toContain(old);
    expect(await login(old)).toBe('accepted');
    expect(await login(pending)).toBe('accepted');

    // The next rotation resumes with the pending password, under load.
    const reporter = new RecordingReporter();
    const counts = await rotateUnderLoad(reporter);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(counts).toEqual({ '200': total });
    expect(reporter.lines).toContain(`database ${account}: resuming an interrupted password rotation`);
    expect(stored()).toBe(pending);
    expect(existsSync(pendingPasswordFile(paths))).toBe(false);
    expect(await login(old)).toBe('denied');
    expect(await login(pending)).toBe('accepted');
    for (const secret of [old, pending]) {
      expect([...converge.progressLines, ...converge.lines, ...reporter.progressLines, ...reporter.lines].join('\n')).not.toContain(secret);
      expect(logLines.join('\n')).not.toContain(secret);
    }
  }, 180_000);

  it('rotates a second time in a row', async () => {
    const old = stored();
    const reporter = new RecordingReporter();
    await host.rotateDatabasePassword(S.name, S.id, reporter);
    const next = stored();
    seen.push(next);
    expect(next).not.toBe(old);
    expect(reporter.lines).not.toContain(`database ${account}: resuming an interrupted password rotation`);
    expect(await login(old)).toBe('denied');
    expect(await login(next)).toBe('accepted');
    expect(await get(domain)).toBe(200);
  }, 120_000);

  it('refuses a site that is not provisioned, naming no secret', async () => {
    const error = await host.rotateDatabasePassword(S.name, 'zz999999', new RecordingReporter()).catch((e: unknown) => e);
    expect(error).toMatchObject({ step: 'validate', reason: 'SiteNotProvisioned' });
  });

  it('never logs a password, and remove() leaves nothing behind', async () => {
    const text = logLines.join('\n');
    for (const secret of seen) expect(text).not.toContain(secret);
    await host.remove(S.name, S.id, new RecordingReporter());
    expect(await host.databasePresent(S.id)).toEqual({ database: false, user: false });
    for (const secret of seen) expect(await login(secret)).toBe('denied');
    expect(existsSync(paths.state)).toBe(false);
    expect(existsSync(paths.root)).toBe(false);
    expect(await lookupUser(account)).toBeUndefined();
  }, 120_000);
});
