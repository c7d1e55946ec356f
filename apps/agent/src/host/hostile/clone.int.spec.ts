import { createHash, randomBytes } from 'node:crypto';
import { lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostRestoreRequest, ResticStore } from '@pressluft/agent-runtime';
import { createLogger } from '@pressluft/platform';
import type { BackupResult, SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execOk } from '../exec.js';
import { sitePaths } from '../naming.js';
import { hostHarness, QUIET, siteRequest } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';
import { SiteHost, StepError } from '../site-host.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const TENANT = hostileSite(`hcs-${suffix}`, { environment: 'production' });
const CLONE = hostileSite(`hcc-${suffix}`, { environment: 'staging' });
const REFUSED = hostileSite(`hcr-${suffix}`, { environment: 'staging' });
const password = randomBytes(18).toString('hex');
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const kind = (path: string) => {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st?.isSymbolicLink() ? `link -> ${readlinkSync(path)}` : st?.isFIFO() ? 'fifo' : st?.isFile() ? 'file' : st?.isDirectory() ? 'dir' : 'none';
};

describe('a hostile tenant against cloning and partial restores', () => {
  const harness = hostHarness(services, `pressluft-hc-${suffix}`);
  const { root, settings } = harness;
  const host = new SiteHost(settings, createLogger({ name: 'hostile-clone', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const tenant = sitePaths(settings, TENANT.name, TENANT.id);
  const clone = sitePaths(settings, CLONE.name, CLONE.id);
  const store: ResticStore = { repository: join(root, 'repo'), password, sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' };
  // Root's file and directory (0600, 0700) the tenant points its links at: neither read into a site nor written.
  const canary = join(root, 'canary');
  const canaryDir = join(root, 'canary-dir');
  const untouched = () => {
    expect(digest(canary)).toBe(digest(`${canary}.expected`));
    expect(lstatSync(canary)).toMatchObject({ uid: 0, gid: 0, mode: 0o100600 });
    expect(readdirSync(canaryDir)).toEqual(['inside']);
    expect(lstatSync(canaryDir)).toMatchObject({ uid: 0, gid: 0, mode: 0o40700 });
  };
  const request = (target: SiteConfig, backup: BackupResult, parts: HostRestoreRequest['parts'] = []): HostRestoreRequest => ({
    site: target,
    backup: `${TENANT.name}-b`,
    snapshots: backup.snapshots ?? { database: '', files: '', manifest: '' },
    sourceDomains: TENANT.domains,
    store,
    parts,
  });
  /** As the tenant would: links to root's files and a FIFO in `dir`, owned by `uid`. */
  const plant = async (dir: string, uid: number) => {
    symlinkSync(canary, join(dir, 'leak'));
    symlinkSync(canaryDir, join(dir, 'rootdir'));
    await execOk(['/usr/bin/mkfifo', join(dir, 'pipe')]);
    for (const name of ['leak', 'rootdir', 'pipe']) await execOk(['/bin/chown', '-h', `${uid}:${uid}`, join(dir, name)]);
  };
  let backup: BackupResult;

  beforeAll(async () => {
    writeFileSync(canary, `root secret ${suffix}\n`, { mode: 0o600 });
    writeFileSync(`${canary}.expected`, `root secret ${suffix}\n`, { mode: 0o600 });
    mkdirSync(canaryDir, { mode: 0o700 });
    writeFileSync(join(canaryDir, 'inside'), 'root\n', { mode: 0o600 });
    await host.provision(TENANT, QUIET);
    const uid = lstatSync(tenant.root).uid;
    await plant(tenant.uploads, uid);
    await plant(join(tenant.current, 'wp-content'), uid);
    backup = await host.backup({ name: TENANT.name, id: TENANT.id, backup: `${TENANT.name}-b`, store }, QUIET);
  }, 240_000);

  afterAll(() => removeSites(host, harness, [REFUSED, CLONE, TENANT]), 120_000);

  it("a clone of a backup with links to root's files and FIFOs restores them as links and FIFOs, owned by the clone: nothing read or written through them", async () => {
    const started = Date.now();
    await host.clone(request(CLONE, backup), QUIET);
    expect(Date.now() - started).toBeLessThan(240_000);
    const uid = lstatSync(clone.root).uid;
    for (const dir of [clone.uploads, join(clone.current, 'wp-content')]) {
      expect([kind(join(dir, 'leak')), kind(join(dir, 'rootdir')), kind(join(dir, 'pipe'))]).toEqual([`link -> ${canary}`, `link -> ${canaryDir}`, 'fifo']);
      for (const name of ['leak', 'rootdir', 'pipe']) expect(lstatSync(join(dir, name)).uid).toBe(uid);
    }
    untouched();
    // nginx follows no link whose target has another owner.
    const leak = await siteRequest(services, CLONE.domains[0] ?? '', '/wp-content/uploads/leak');
    expect(leak.status).not.toBe(200);
    expect(leak.body).not.toContain('root secret');
    expect((await siteRequest(services, CLONE.domains[0] ?? '', '/')).status).toBe(200);
  }, 300_000);

  it("a database-only restore copies the live release (links and FIFOs in it) as the site user: links stay links, no FIFO is read, root's files unchanged", async () => {
    const started = Date.now();
    const result = await host.restore(request(CLONE, backup, ['database']), QUIET);
    expect(Date.now() - started).toBeLessThan(240_000);
    const wpContent = join(clone.releases, result.currentRelease, 'wp-content');
    expect([kind(join(wpContent, 'leak')), kind(join(wpContent, 'rootdir')), kind(join(wpContent, 'pipe'))]).toEqual([`link -> ${canary}`, `link -> ${canaryDir}`, 'fifo']);
    expect(lstatSync(join(wpContent, 'leak')).uid).toBe(lstatSync(clone.root).uid);
    untouched();
    expect((await siteRequest(services, CLONE.domains[0] ?? '', '/')).status).toBe(200);
  }, 300_000);

  it('a backup whose shared/uploads is a link (to a root-only directory) clones into nothing: BackupInvalid, the clone never served, root untouched', async () => {
    const real = join(tenant.shared, 'real-uploads');
    renameSync(tenant.uploads, real);
    symlinkSync(canaryDir, tenant.uploads);
    let linked: BackupResult;
    try {
      lchownSync(tenant.uploads, lstatSync(tenant.root).uid, lstatSync(tenant.root).uid);
      linked = await host.backup({ name: TENANT.name, id: TENANT.id, backup: `${TENANT.name}-b`, store }, QUIET);
    } finally {
      unlinkSync(tenant.uploads);
      renameSync(real, tenant.uploads);
    }
    const failure = await host.clone(request(REFUSED, linked), QUIET).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StepError);
    expect((failure as StepError).reason).toBe('BackupInvalid');
    untouched();
    const answer = await siteRequest(services, REFUSED.domains[0] ?? '', '/').then((a) => a.status, () => 'closed');
    expect(answer).not.toBe(200);
  }, 300_000);
});
