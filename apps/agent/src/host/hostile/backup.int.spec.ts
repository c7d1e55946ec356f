import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResticStore } from '@pressluft/agent-runtime';
import { createLogger } from '@pressluft/platform';
import type { BackupResult, SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resticEnv } from '../backup/restic.js';
import { execOk } from '../exec.js';
import { sitePaths } from '../naming.js';
import { hostHarness, QUIET, siteRequest } from '../../../test/host-harness.js';
import { SiteHost, StepError } from '../site-host.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const randomId = () => randomBytes(8).toString('hex').replace(/[^0-9a-z]/g, '').slice(0, 8).padEnd(8, '0');
const site = (name: string): SiteConfig => ({
  name,
  id: randomId(),
  environment: 'production',
  domains: [`${name}.example.test`],
  php: { version: '8.2', memoryLimitMb: 192, maxChildren: 3, uploadMaxMb: 16 },
  wordpress: { version: '6.1', title: name, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
  resources: { cpuPercent: 100, memoryMib: 384 },
  keepReleases: 3,
});
const TENANT = site(`ht-${suffix}`);
const VICTIM = site(`hv-${suffix}`);
const password = randomBytes(18).toString('hex');

async function failureOf(operation: Promise<unknown>): Promise<StepError> {
  const outcome = await operation.then(
    (result) => new Error(`expected a rejection, got ${JSON.stringify(result)}`),
    (error: unknown) => error,
  );
  if (!(outcome instanceof StepError)) throw outcome;
  return outcome;
}

describe('a hostile tenant against backups and restores', () => {
  const harness = hostHarness(services, `pressluft-hb-${suffix}`);
  const { root, settings } = harness;
  const host = new SiteHost(settings, createLogger({ name: 'hostile-backup', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const tenant = sitePaths(settings, TENANT.name, TENANT.id);
  const victim = sitePaths(settings, VICTIM.name, VICTIM.id);
  const repository = join(root, 'repo');
  const store: ResticStore = { repository, password, sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' };
  const env = () => resticEnv(repository, join(root, 'restic-password'), join(root, 'restic-cache'));
  const restic = (...args: string[]) => execOk(['/usr/bin/restic', ...args], { env: env(), timeoutMs: 120_000 });
  /** `tar -tv` of a backup's files snapshot. */
  const listing = (result: BackupResult) => execOk(['/bin/sh', '-c', 'restic dump "$0" "$1" | tar -tv', result.snapshots?.files ?? '', `${TENANT.name}/files.tar`], { env: env(), timeoutMs: 120_000 });
  let uid = 0;
  const asTenant = (path: string) => chownSync(path, uid, uid);
  const backup = (name: string) => host.backup({ name: TENANT.name, id: TENANT.id, backup: `${TENANT.name}-${name}`, store }, QUIET);

  beforeAll(async () => {
    writeFileSync(join(root, 'restic-password'), `${password}\n`, { mode: 0o600 });
    await host.provision(TENANT, QUIET);
    await host.provision(VICTIM, QUIET);
    uid = lstatSync(tenant.root).uid;
    writeFileSync(join(victim.uploads, 'private.txt'), 'victim data\n');
  }, 180_000);

  afterAll(async () => {
    for (const s of [TENANT, VICTIM]) await host.remove(s.name, s.id, QUIET).catch((e: unknown) => console.error(`cleanup of ${s.name} failed:`, e));
    await host.stopAll().catch(() => undefined);
    harness.cleanup();
  }, 120_000);

  it('a symlink planted at shared/uploads (to /etc, to another site) is stored as a symlink: the backup holds nothing behind it', async () => {
    const real = join(tenant.shared, 'real-uploads');
    renameSync(tenant.uploads, real);
    try {
      for (const target of ['/etc', victim.uploads]) {
        symlinkSync(target, tenant.uploads);
        try {
          const listed = await listing(await backup(`link-${target === '/etc' ? 'etc' : 'victim'}`));
          expect(listed).toMatch(new RegExp(`^l\\S+ .* shared/uploads -> ${target}$`, 'm'));
          expect(listed).not.toMatch(/passwd|shadow|private\.txt/);
        } finally {
          unlinkSync(tenant.uploads);
        }
      }
    } finally {
      renameSync(real, tenant.uploads);
    }
  }, 180_000);

  it('a FIFO in the uploads is archived as a FIFO, never read: the backup does not block', async () => {
    const fifo = join(tenant.uploads, 'pipe');
    await execOk(['/usr/bin/mkfifo', fifo]);
    asTenant(fifo);
    try {
      const started = Date.now();
      const listed = await listing(await backup('fifo'));
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(listed).toMatch(/^p\S+ .* shared\/uploads\/pipe$/m);
    } finally {
      await execOk(['/bin/rm', '-f', fifo]);
    }
  }, 180_000);

  it('a file in the uploads the site user cannot read fails the backup (tar runs as the site user): no snapshot', async () => {
    const secret = join(tenant.uploads, 'root-only.txt');
    writeFileSync(secret, 'root secret\n', { mode: 0o600 });
    try {
      const failure = await failureOf(backup('unreadable'));
      expect(failure.reason).toBe('BackupFailed');
      expect(failure.step).toBe('files');
      expect(failure.message).toMatch(/Permission denied/);
      expect(JSON.parse(await restic('snapshots', '--json', '--tag', `backup=${TENANT.name}-unreadable`))).toEqual([]);
    } finally {
      await execOk(['/bin/rm', '-f', secret]);
    }
  }, 180_000);

  it("a crafted archive (a symlink into another site's uploads, then a file through it; a member with ..) writes nothing outside the tenant's tree, and the site keeps serving", async () => {
    const good = await backup('good');
    const release = readdirSync(tenant.releases).filter((n) => !n.startsWith('.'))[0] ?? '';
    // The tenant's own tree as the base, with hostile members added (as the tenant could after a restore of its own files).
    const craft = join(root, 'craft');
    mkdirSync(join(craft, 'releases'), { recursive: true });
    mkdirSync(join(craft, 'shared', 'uploads'), { recursive: true });
    await execOk(['/bin/cp', '-a', join(tenant.releases, release), join(craft, 'releases', release)]);
    symlinkSync(victim.uploads, join(craft, 'shared', 'uploads', 'escape'));
    const tarFile = join(root, 'crafted.tar');
    await execOk(['/bin/tar', '-cf', tarFile, '-C', craft, 'releases', 'shared']);
    // A second member through the symlink, and one climbing out with ..
    const evil = join(root, 'evil');
    mkdirSync(join(evil, 'shared', 'uploads', 'escape'), { recursive: true });
    writeFileSync(join(evil, 'shared', 'uploads', 'escape', 'evil.txt'), 'evil\n');
    await execOk(['/bin/tar', '-rf', tarFile, '-C', evil, 'shared/uploads/escape/evil.txt']);
    const outside = `/tmp/pl-evil-${suffix}.txt`;
    await execOk(['/bin/tar', '-rPf', tarFile, '-C', evil, `--transform=s,^shared/uploads/escape/evil.txt,../../../../../..${outside},`, 'shared/uploads/escape/evil.txt']);
    expect(await execOk(['/bin/tar', '-tPf', tarFile])).toContain(`../../../../../..${outside}`);
    const stored = JSON.parse(
      (await execOk(['/bin/sh', '-c', 'restic backup --stdin --stdin-filename "$0" --json < "$1" | tail -1', `${TENANT.name}/files.tar`, tarFile], { env: env(), timeoutMs: 120_000 })).trim(),
    ) as { snapshot_id: string };
    await host
      .restore({ site: TENANT, backup: `${TENANT.name}-crafted`, snapshots: { database: good.snapshots?.database ?? '', files: stored.snapshot_id, manifest: '' }, sourceDomains: TENANT.domains, store, parts: [] }, QUIET)
      .catch((error: unknown) => {
        if (!(error instanceof StepError)) throw error;
      });
    expect(existsSync(join(victim.uploads, 'evil.txt'))).toBe(false);
    expect(existsSync(outside)).toBe(false);
    expect(readdirSync(victim.uploads)).toEqual(['private.txt']);
    expect(readFileSync(join(victim.uploads, 'private.txt'), 'utf8')).toBe('victim data\n');
    expect((await siteRequest(services, TENANT.domains[0] ?? '', '/')).status).toBe(200);
    expect((await siteRequest(services, VICTIM.domains[0] ?? '', '/')).status).toBe(200);
  }, 300_000);

  it("an uploads-only restore over shared/uploads planted as a symlink to another site's uploads: the link is moved aside and removed as a link, the other site's files untouched", async () => {
    const good = await backup('uploads-only');
    const uploadsDir = tenant.uploads;
    const aside = join(tenant.root, 'tmp', `own-uploads-${suffix}`);
    renameSync(uploadsDir, aside);
    symlinkSync(victim.uploads, uploadsDir);
    try {
      await host.restore({ site: TENANT, backup: `${TENANT.name}-uploads-only`, snapshots: good.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: TENANT.domains, store, parts: ['uploads'] }, QUIET);
      // The restored uploads are a real directory of the tenant's; the link went away as a link.
      expect(lstatSync(uploadsDir).isDirectory()).toBe(true);
      expect(lstatSync(uploadsDir).uid).toBe(uid);
      expect(readdirSync(victim.uploads)).toEqual(['private.txt']);
      expect(readFileSync(join(victim.uploads, 'private.txt'), 'utf8')).toBe('victim data\n');
      expect(readdirSync(join(tenant.root, 'shared')).filter((n) => n.startsWith('.uploads-old-'))).toEqual([]);
      expect((await siteRequest(services, TENANT.domains[0] ?? '', '/')).status).toBe(200);
      expect((await siteRequest(services, VICTIM.domains[0] ?? '', '/')).status).toBe(200);
    } finally {
      if (existsSync(aside)) await execOk(['/bin/rm', '-rf', aside]);
    }
  }, 300_000);

  it("a database-only restore copies the live release as the site user: a symlink the tenant planted there (to another site's uploads, to /etc/shadow) stays a link, nothing behind it is copied", async () => {
    const good = await backup('database-only');
    const live = readFileSync(join(tenant.root, 'current', 'index.php'), 'utf8');
    const release = readdirSync(tenant.releases).filter((n) => !n.startsWith('.')).sort().at(-1) ?? '';
    const planted = join(tenant.releases, release, 'wp-content', `peek-${suffix}`);
    const shadow = join(tenant.releases, release, 'wp-content', `shadow-${suffix}`);
    symlinkSync(victim.uploads, planted);
    symlinkSync('/etc/shadow', shadow);
    const before = readdirSync(tenant.releases).filter((n) => !n.startsWith('.')).sort();
    await host.restore({ site: TENANT, backup: `${TENANT.name}-database-only`, snapshots: good.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: TENANT.domains, store, parts: ['database'] }, QUIET);
    const made = readdirSync(tenant.releases).filter((n) => !n.startsWith('.') && !before.includes(n));
    expect(made).toHaveLength(1);
    const copy = join(tenant.releases, made[0] ?? '', 'wp-content');
    for (const name of [`peek-${suffix}`, `shadow-${suffix}`]) expect(lstatSync(join(copy, name)).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(copy, `peek-${suffix}`)).uid).toBe(uid);
    expect(readdirSync(victim.uploads)).toEqual(['private.txt']);
    expect(readFileSync(join(tenant.root, 'current', 'index.php'), 'utf8')).toBe(live);
    expect((await siteRequest(services, TENANT.domains[0] ?? '', '/')).status).toBe(200);
  }, 300_000);

  it("a restore's staging dir swapped for a symlink (to another site's uploads) while it runs: nothing written there, the restore fails, the site serves as before", async () => {
    const good = await backup('race');
    const before = readdirSync(tenant.releases).sort();
    let swapped = 0;
    let running = true;
    // The tenant watches its releases/ and swaps each new .restore-* dir for a symlink.
    const watcher = (async () => {
      while (running) {
        for (const name of readdirSync(tenant.releases)) {
          if (!name.startsWith('.restore-') || lstatSync(join(tenant.releases, name), { throwIfNoEntry: false })?.isDirectory() !== true) continue;
          try {
            renameSync(join(tenant.releases, name), join(tenant.root, 'tmp', `moved-${name}`));
            symlinkSync(victim.uploads, join(tenant.releases, name));
            swapped++;
          } catch {
            // the agent was faster this time
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const failure = await failureOf(host.restore({ site: TENANT, backup: `${TENANT.name}-race`, snapshots: good.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: TENANT.domains, store, parts: [] }, QUIET)).finally(() => {
      running = false;
    });
    await watcher;
    expect(swapped).toBeGreaterThan(0);
    expect(['RestoreFailed', 'BackupInvalid']).toContain(failure.reason);
    expect(readdirSync(victim.uploads)).toEqual(['private.txt']);
    expect(readdirSync(tenant.releases).filter((n) => !n.startsWith('.')).sort()).toEqual(before.filter((n) => !n.startsWith('.')));
    expect((await siteRequest(services, TENANT.domains[0] ?? '', '/')).status).toBe(200);
  }, 300_000);
});
