// Hostile tenant against nginx: a site user plants symlinks in its own tree (uploads, `current`)
// that point at another site's files or at the node's, and asks nginx for them by its own domain.
import { randomBytes } from 'node:crypto';
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execOk } from '../exec.js';
import { sitePaths } from '../naming.js';
import { SiteHost } from '../site-host.js';
import { requireUser } from '../users.js';
import { hostHarness, RecordingReporter, siteRequest } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const attacker = hostileSite(`evil-${suffix}`);
const victim = hostileSite(`victim-${suffix}`);
const domain = (s: SiteConfig) => s.domains[0] ?? '';
const SECRET = `victim secret ${suffix}`;

describe('a hostile site against nginx (symlinks planted by the site user)', () => {
  const harness = hostHarness(services, `pressluft-hostile-nginx-${suffix}`);
  const host = new SiteHost(harness.settings, createLogger({ name: 'hostile-nginx', level: 'warn' }));
  const evil = sitePaths(harness.settings, attacker.name, attacker.id);
  const good = sitePaths(harness.settings, victim.name, victim.id);
  /** Runs argv as the attacking site's Linux user: what its PHP could do. */
  let asAttacker: (argv: string[]) => Promise<string>;

  beforeAll(async () => {
    await host.provision(attacker, new RecordingReporter());
    await host.provision(victim, new RecordingReporter());
    const user = await requireUser(`site_${attacker.id}`);
    asAttacker = (argv) => execOk(argv, { uid: user.uid, gid: user.gid });
    const owner = await requireUser(`site_${victim.id}`);
    const secret = join(good.uploads, 'secret.txt');
    writeFileSync(secret, SECRET, { mode: 0o644 });
    chownSync(secret, owner.uid, owner.gid);
    writeFileSync(join(evil.uploads, 'own.txt'), 'own upload', { mode: 0o644 });
    chownSync(join(evil.uploads, 'own.txt'), user.uid, user.gid);
  }, 180_000);

  afterAll(() => removeSites(host, harness, [attacker, victim]), 120_000);

  it('still serves the site and its own uploads through the uploads symlink (the rule blocks only foreign links)', async () => {
    expect((await siteRequest(services, domain(attacker), '/')).status).toBe(200);
    const own = await siteRequest(services, domain(attacker), '/wp-content/uploads/own.txt');
    expect(own.status).toBe(200);
    expect(own.body).toBe('own upload');
  });

  it("refuses an upload that is a symlink to another site's file", async () => {
    await asAttacker(['/bin/ln', '-s', join(good.uploads, 'secret.txt'), join(evil.uploads, 'steal.txt')]);
    const answer = await siteRequest(services, domain(attacker), '/wp-content/uploads/steal.txt');
    expect(answer.status).not.toBe(200);
    expect(answer.body).not.toContain(SECRET);
  });

  it("refuses an upload that is a symlink to the node's files", async () => {
    await asAttacker(['/bin/ln', '-s', '/etc/passwd', join(evil.uploads, 'passwd.txt')]);
    const answer = await siteRequest(services, domain(attacker), '/wp-content/uploads/passwd.txt');
    expect(answer.status).not.toBe(200);
    expect(answer.body).not.toContain('root:x:0:0');
  });

  it("serves nothing of / or of another site when the tenant points `current` there", async () => {
    const current = await asAttacker(['/bin/readlink', evil.current]);
    try {
      await asAttacker(['/bin/ln', '-sfn', '/', evil.current]);
      const passwd = await siteRequest(services, domain(attacker), '/etc/passwd');
      expect(passwd.status).not.toBe(200);
      expect(passwd.body).not.toContain('root:x:0:0');
      await asAttacker(['/bin/ln', '-sfn', good.shared, evil.current]);
      const foreign = await siteRequest(services, domain(attacker), '/uploads/secret.txt');
      expect(foreign.status).not.toBe(200);
      expect(foreign.body).not.toContain(SECRET);
    } finally {
      await asAttacker(['/bin/ln', '-sfn', current.trim(), evil.current]);
    }
    expect((await siteRequest(services, domain(attacker), '/')).status).toBe(200);
  });

  it('answers no tenant for a Host no site claims (the default server closes the connection)', async () => {
    const answer = await siteRequest(services, `unknown-${suffix}.example.test`, '/').then(
      (r) => `status ${r.status}`,
      (error: unknown) => `error ${error instanceof Error ? error.message : String(error)}`,
    );
    expect(answer).toMatch(/^error /);
    expect((await siteRequest(services, domain(victim), '/wp-content/uploads/secret.txt')).body).toBe(SECRET);
  });
});
