// Hostile tenant against the page cache: a site's user (its PHP in the pool's jail, and its Linux
// user outside it) tries to read or write a cache directory, or to ask another site's purge
// socket for a purge; and what stands in the cache directory or at the socket's path (planted
// here as root, for anything that could ever write there) never makes the agent follow it.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exec, execOk } from '../exec.js';
import { sitePaths, type SitePaths } from '../naming.js';
import { currentRelease } from '../releases.js';
import { SiteHost } from '../site-host.js';
import { requireUser } from '../users.js';
import { hostHarness, RecordingReporter, siteRequest } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const CACHE = { redis: false, page: { enabled: true, sizeMib: 16, ttlSeconds: 600 } };
const attacker = hostileSite(`evil-pc-${suffix}`, { cache: CACHE });
const victim = hostileSite(`victim-pc-${suffix}`, { cache: CACHE });
const domain = (s: SiteConfig) => s.domains[0] ?? '';
const PRECIOUS = `precious ${suffix}`;

/** Every regular file below `dir` (read as root). */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('a hostile site against the page cache and the purge sockets', () => {
  const harness = hostHarness(services, `pressluft-hostile-cache-${suffix}`);
  const logger = createLogger({ name: 'hostile-page-cache', level: 'warn' });
  const host = new SiteHost(harness.settings, logger);
  const evil = sitePaths(harness.settings, attacker.name, attacker.id);
  const good = sitePaths(harness.settings, victim.name, victim.id);
  const preciousDir = join(harness.root, 'precious');
  let owner: { uid: number; gid: number };

  /** A PHP file in the attacker's live release, run by its pool (in its jail) through nginx; a POST is never cached. */
  async function attackerPhp(code: string): Promise<string> {
    const name = `probe-${randomBytes(4).toString('hex')}.php`;
    const file = join(evil.releases, (await currentRelease(evil)) ?? '', name);
    writeFileSync(file, `<?php\n${code}\n`, { mode: 0o644 });
    chownSync(file, owner.uid, owner.gid);
    const answer = await siteRequest(services, domain(attacker), `/${name}`, { method: 'POST', body: 'x=1' });
    expect(answer.status).toBe(200);
    return answer.body;
  }

  /** argv as the attacker's Linux user, outside any jail: what a shell of the tenant could do. */
  const asAttacker = (argv: string[]) => exec(argv, { uid: owner.uid, gid: owner.gid, timeoutMs: 10_000 });

  const cached = async (site: SiteConfig) => {
    for (let i = 0; i < 5; i++) if ((await siteRequest(services, domain(site), '/')).headers['x-pressluft-cache'] === 'HIT') return true;
    return false;
  };

  beforeAll(async () => {
    await host.provision(attacker, new RecordingReporter());
    await host.provision(victim, new RecordingReporter());
    owner = await requireUser(`site_${attacker.id}`);
    mkdirSync(preciousDir, { mode: 0o755 });
    writeFileSync(join(preciousDir, 'file.txt'), PRECIOUS);
  }, 180_000);

  afterAll(() => removeSites(host, harness, [attacker, victim]), 120_000);

  it("cannot list, read or write its own or another site's cache directory", async () => {
    expect(await cached(attacker)).toBe(true);
    expect(await cached(victim)).toBe(true);
    for (const paths of [evil, good] as SitePaths[]) {
      const entry = filesBelow(paths.pageCacheDir)[0] ?? '';
      expect(entry).not.toBe('');
      expect((await asAttacker(['/bin/ls', paths.pageCacheDir])).code).not.toBe(0);
      expect((await asAttacker(['/bin/cat', entry])).code).not.toBe(0);
      expect((await asAttacker(['/usr/bin/touch', join(paths.pageCacheDir, 'planted')])).code).not.toBe(0);
      expect(existsSync(join(paths.pageCacheDir, 'planted'))).toBe(false);
      // From PHP in the pool: the cache is not even in the jail.
      expect(await attackerPhp(`var_dump(@scandir(${JSON.stringify(paths.pageCacheDir)}), @file_get_contents(${JSON.stringify(entry)}), @file_put_contents(${JSON.stringify(join(paths.pageCacheDir, 'x'))}, 'x'));`)).toBe('bool(false)\nbool(false)\nbool(false)\n');
    }
  });

  it("cannot connect to another site's purge socket, from its PHP or as its user", async () => {
    const connectPhp = (socket: string) =>
      `$s = @stream_socket_client('unix://' . ${JSON.stringify(socket)}, $errno, $errstr, 2.0); if ($s === false) { echo 'refused'; } else { fwrite($s, "purge\\n"); echo trim((string) fgets($s, 16)); }`;
    expect(await cached(victim)).toBe(true);
    expect(await attackerPhp(connectPhp(good.purgeSocket))).toBe('refused');
    const outside = await asAttacker(['/usr/bin/php', '-n', '-r', connectPhp(good.purgeSocket)]);
    expect(outside.stdout).toBe('refused');
    expect((await siteRequest(services, domain(victim), '/')).headers['x-pressluft-cache']).toBe('HIT');
    // Its own socket answers its own PHP, and empties only its own cache.
    expect(await attackerPhp(connectPhp(evil.purgeSocket))).toBe('ok');
    expect((await siteRequest(services, domain(victim), '/')).headers['x-pressluft-cache']).toBe('HIT');
  });

  it('a symlink or FIFO in the cache directory is removed by a purge, never followed or opened', async () => {
    expect(await cached(victim)).toBe(true);
    const level = join(good.pageCacheDir, 'zz');
    mkdirSync(level);
    symlinkSync(preciousDir, join(good.pageCacheDir, 'link-dir'));
    symlinkSync(join(preciousDir, 'file.txt'), join(level, 'link-file'));
    await execOk(['/usr/bin/mkfifo', join(good.pageCacheDir, 'fifo')]);
    const started = Date.now();
    await host.purgePageCache(victim.name, victim.id);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(readFileSync(join(preciousDir, 'file.txt'), 'utf8')).toBe(PRECIOUS);
    expect(readdirSync(good.pageCacheDir)).toEqual([]);
    const web = await requireUser('www-data');
    const st = statSync(good.pageCacheDir);
    expect([st.isDirectory(), st.uid, st.mode & 0o7777]).toEqual([true, web.uid, 0o700]);
    expect((await siteRequest(services, domain(victim), '/')).headers['x-pressluft-cache']).toBe('MISS');
  });

  it('a symlink in place of the cache directory is moved away and removed, its target untouched', async () => {
    renameSync(good.pageCacheDir, `${good.pageCacheDir}.aside`);
    symlinkSync(preciousDir, good.pageCacheDir);
    await host.purgePageCache(victim.name, victim.id);
    expect(readFileSync(join(preciousDir, 'file.txt'), 'utf8')).toBe(PRECIOUS);
    expect(existsSync(good.pageCacheDir)).toBe(false);
    renameSync(`${good.pageCacheDir}.aside`, good.pageCacheDir);
  });

  it('a new agent replaces whatever stands at a purge socket path without following it', async () => {
    renameSync(good.purgeSocket, `${good.purgeSocket}.old`);
    symlinkSync(join(preciousDir, 'file.txt'), good.purgeSocket);
    const next = new SiteHost(harness.settings, logger);
    try {
      await next.supervise(victim);
      expect(statSync(good.purgeSocket).isSocket()).toBe(true);
      expect(readFileSync(join(preciousDir, 'file.txt'), 'utf8')).toBe(PRECIOUS);
      const st = statSync(good.purgeSocket);
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual([0, (await requireUser(`site_${victim.id}`)).gid, 0o660]);
    } finally {
      await next.stopAll();
    }
  });
});
