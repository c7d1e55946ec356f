// Supervision and liveness on real PHP-FPM, nginx and MariaDB: a killed master comes back, a
// crash loop is reported and backs off, a new agent adopts what runs, probes through nginx see
// what a visitor sees, and a hostile site's page cannot stall them.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestartPolicy } from '@pressluft/domain';
import { createLogger } from '@pressluft/platform';
import { freePort, NginxService, sleep } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostHarness, RecordingReporter, siteRequest } from '../../test/host-harness.js';
import { hostileSite, removeSites } from '../../test/hostile-sites.js';
import { sitePaths } from './naming.js';
import { parentOf, processState } from './process-tree.js';
import { SiteHost } from './site-host.js';
import { requireUser } from './users.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const site = hostileSite(`heal-${suffix}`, { php: { version: '8.2', memoryLimitMb: 128, maxChildren: 4, uploadMaxMb: 8 } });
const domain = site.domains[0] ?? '';
const policy: RestartPolicy = { baseDelayMs: 300, maxDelayMs: 1200, crashLoopRestarts: 3, stableMs: 2500 };
const logger = createLogger({ name: 'supervision-test', level: 'warn' });

/** Polls (up to 2 s) until `holds`. */
async function until(holds: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !holds(); i++) await sleep(10);
  expect(holds()).toBe(true);
}

/** Gone, or a zombie waiting to be reaped. */
function dead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return processState(stat) === 'Z';
  } catch {
    return true;
  }
}

/** Waits (up to 2 s) until a killed process is gone. */
async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 200 && !dead(pid); i++) await sleep(10);
}

/** The PIDs of every PHP-FPM master of `config` on the machine. */
function mastersOf(config: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '') === `php-fpm: master process (${config})`;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('supervision and liveness of a site on a real node', () => {
  const harness = hostHarness(services, `pressluft-supervision-${suffix}`, { restartPolicy: policy });
  const host = new SiteHost(harness.settings, logger);
  const paths = sitePaths(harness.settings, site.name, site.id);
  const masterPid = () => Number(readFileSync(paths.fpmPid, 'utf8').trim());
  /** The site's PHP-FPM workers and their parents: none may outlive its master. */
  const poolProcesses = () =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .flatMap((pid) => {
        try {
          if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`php-fpm: pool site_${site.id}`)) return [];
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return [{ pid: Number(pid), parent: parentOf(stat) }];
        } catch {
          return [];
        }
      });
  /** A must-use plugin in the live release, written as the site user could (its PHP, its admin). */
  let plant: (body: string | undefined) => void;

  beforeAll(async () => {
    await host.provision(site, new RecordingReporter());
    const owner = await requireUser(`site_${site.id}`);
    const dir = join(paths.current, 'wp-content', 'mu-plugins');
    plant = (body) => {
      mkdirSync(dir, { recursive: true });
      chownSync(dir, owner.uid, owner.gid);
      const file = join(dir, 'health-test.php');
      if (body === undefined) return rmSync(file, { force: true });
      writeFileSync(file, `<?php\n${body}\n`);
      chownSync(file, owner.uid, owner.gid);
    };
  }, 120_000);

  afterAll(async () => {
    await removeSites(host, harness, [site]);
  }, 120_000);

  it('a converged site is SERVING; the node reports nginx and MariaDB up', async () => {
    const health = await host.health([site]);
    expect(health.services.map((s) => [s.name, s.up])).toEqual([
      ['nginx', true],
      ['mariadb', true],
    ]);
    expect(health.sites).toEqual([expect.objectContaining({ name: site.name, state: 'SERVING', httpStatus: 200, processUp: true, restarts: 0, crashLooping: false })]);
    expect(health.sites[0]?.probeSeconds).toBeGreaterThan(0);
  });

  it('SIGKILL of the master: the next look starts it again at once, the site answers 200, the exit is known', async () => {
    const before = masterPid();
    // A worker is running (pm = ondemand: the probe before started one).
    expect((await siteRequest(services, domain, '/')).status).toBe(200);
    expect(poolProcesses().length).toBeGreaterThan(0);
    // Hostile: another user's process named like one of the site's workers, with no master.
    const decoy = spawn('/usr/bin/sleep', ['60'], { argv0: `php-fpm: pool site_${site.id}`, uid: 65534, gid: 65534, stdio: 'ignore' });
    await until(() => poolProcesses().some((p) => p.pid === decoy.pid));
    process.kill(before, 'SIGKILL');
    await gone(before);
    expect((await host.health([site])).sites[0]).toMatchObject({ state: 'NOT_SERVING', reason: 'ProcessDown', processUp: false });
    const started = performance.now();
    expect(await host.supervise(site)).toBe(true);
    const after = masterPid();
    expect(after).not.toBe(before);
    expect((await siteRequest(services, domain, '/')).status).toBe(200);
    console.log(`restart after SIGKILL: ${Math.round(performance.now() - started)} ms to a running master`);
    expect(mastersOf(paths.fpmConfig)).toEqual([after]);
    // Orphaned workers are gone; the decoy (another user's process named like one) was not touched.
    expect(poolProcesses().filter((p) => p.parent !== after && p.pid !== decoy.pid)).toEqual([]);
    expect(dead(decoy.pid ?? 0)).toBe(false);
    decoy.kill('SIGKILL');
    expect((await host.health([site])).sites[0]).toMatchObject({ state: 'SERVING', restarts: 1, crashLooping: false, lastExit: 'killed by SIGKILL' });
    // Looking again changes nothing: the master runs.
    expect(await host.supervise(site)).toBe(false);
  });

  it('killed again and again: a crash loop, restarts wait longer each time, and it ends once the master stays up', async () => {
    // From a stable run: the first restart is immediate, the next ones back off.
    await sleep(policy.stableMs + 100);
    await host.supervise(site);
    const restartedAt: number[] = [];
    const looks: number[] = [];
    const t0 = performance.now();
    for (let kill = 0; kill < 3; kill++) {
      const pidBefore = masterPid();
      process.kill(pidBefore, 'SIGKILL');
      // A killed process takes a moment to be gone (then a zombie until reaped): look after that.
      await gone(pidBefore);
      let look = 0;
      while (look < 100 && masterPid() === pidBefore) {
        look += 1;
        await host.supervise(site);
        if (masterPid() === pidBefore) await sleep(50);
      }
      expect(masterPid()).not.toBe(pidBefore);
      looks.push(look);
      restartedAt.push(Math.round(performance.now() - t0));
    }
    const looping = (await host.health([site])).sites[0];
    expect(looping).toMatchObject({ state: 'SERVING', restarts: 4, crashLooping: true, lastExit: 'killed by SIGKILL' });
    // Backoff: the first restart in a row on the first look, the second and third only after
    // 300 and 600 ms (lower bounds: a busy machine only makes the gaps longer).
    expect(looks[0]).toBe(1);
    expect(looks[1]).toBeGreaterThan(1);
    expect(looks[2]).toBeGreaterThan(1);
    const gaps = restartedAt.map((at, i) => at - (restartedAt[i - 1] ?? 0));
    expect(gaps[1]).toBeGreaterThanOrEqual(300);
    expect(gaps[2]).toBeGreaterThanOrEqual(600);
    console.log(`crash loop restarts at ${JSON.stringify(restartedAt)} ms`);
    // While it waits for its backoff the site is down and says why.
    const waiting = masterPid();
    process.kill(waiting, 'SIGKILL');
    await gone(waiting);
    expect(await host.supervise(site)).toBe(false);
    expect((await host.health([site])).sites[0]).toMatchObject({ state: 'NOT_SERVING', reason: 'ProcessDown', crashLooping: true });
    expect((await host.health([site])).sites[0]?.message).toMatch(/crash loop after 4 restarts/);
    for (let i = 0; i < 100 && !(await host.health([site])).sites[0]?.processUp; i++) {
      await host.supervise(site);
      await sleep(50);
    }
    // Up for the stable time: the loop is over.
    await sleep(policy.stableMs + 100);
    expect(await host.supervise(site)).toBe(true);
    expect((await host.health([site])).sites[0]).toMatchObject({ state: 'SERVING', crashLooping: false, restarts: 5 });
  }, 60_000);

  it('a new agent (a restart) adopts the running master: no second master, no restart', async () => {
    const pid = masterPid();
    const restarted = new SiteHost(harness.settings, logger);
    expect(await restarted.supervise(site)).toBe(false);
    expect(mastersOf(paths.fpmConfig)).toEqual([pid]);
    expect((await restarted.health([site])).sites[0]).toMatchObject({ state: 'SERVING', processUp: true, restarts: 0 });
    // A master it did not start dies: seen gone, restarted all the same.
    process.kill(pid, 'SIGKILL');
    await gone(pid);
    expect(await restarted.supervise(site)).toBe(true);
    expect((await restarted.health([site])).sites[0]).toMatchObject({ state: 'SERVING', restarts: 1, lastExit: 'exited (seen gone)' });
    expect(mastersOf(paths.fpmConfig)).toEqual([masterPid()]);
  });

  it('a site answering 500 is NOT_SERVING with the code and is never restarted for it; it serves again once fixed', async () => {
    const pid = masterPid();
    plant('http_response_code(500); exit;');
    try {
      const broken = (await host.health([site])).sites[0];
      expect(broken).toMatchObject({ state: 'NOT_SERVING', reason: 'HttpStatus', httpStatus: 500, message: 'GET / answered 500', processUp: true });
      expect(await host.supervise(site)).toBe(false);
      expect(masterPid()).toBe(pid);
    } finally {
      plant(undefined);
    }
    expect((await host.health([site])).sites[0]).toMatchObject({ state: 'SERVING', httpStatus: 200 });
  });

  it('hostile: a page that never answers or never ends cannot stall the probe or the agent', async () => {
    plant('sleep(8);');
    try {
      const started = performance.now();
      const hung = (await host.health([site])).sites[0];
      const seconds = (performance.now() - started) / 1000;
      expect(hung).toMatchObject({ state: 'NOT_SERVING', reason: 'Unreachable' });
      expect(hung?.message).toMatch(/no answer within 5000 ms/);
      // Two probes (the second confirms) of at most 5 s each.
      expect(seconds).toBeLessThan(12);
      plant('header("Content-Type: text/plain"); while (true) { echo str_repeat("x", 65536); flush(); }');
      const streaming = (await host.health([site])).sites[0];
      expect(streaming).toMatchObject({ state: 'SERVING', httpStatus: 200 });
    } finally {
      plant(undefined);
    }
  }, 60_000);

  it('nginx down on the node: the site is NOT_SERVING for the node\'s reason, not probed', async () => {
    const closed = await freePort();
    const elsewhere = new SiteHost({ ...harness.settings, nginx: { ...harness.settings.nginx, listen: `127.0.0.1:${closed}` } }, logger);
    const health = await elsewhere.health([site]);
    expect(health.services.find((s) => s.name === 'nginx')).toMatchObject({ up: false, message: expect.stringMatching(/ECONNREFUSED/) });
    expect(health.sites[0]).toMatchObject({ state: 'NOT_SERVING', reason: 'NodeServiceDown', httpStatus: 0 });
    expect(health.sites[0]?.message).toMatch(/^nginx on the node is down: /);
  });
});

describe('nginx kept running by the agent (no systemd)', () => {
  const harness = hostHarness(services, `pressluft-supervision-nginx-${suffix}`, { restartPolicy: policy });
  let nginx: NginxService;
  let host: SiteHost;

  beforeAll(async () => {
    nginx = await NginxService.create(harness.root);
    const argv = ['/usr/sbin/nginx', '-p', nginx.prefix, '-c', nginx.configFile, '-e', join(nginx.prefix, 'logs', 'error.log')];
    host = new SiteHost({ ...harness.settings, nginx: { ...harness.settings.nginx, command: argv, sitesDir: nginx.sitesDir, listen: `127.0.0.1:${nginx.port}`, tlsListen: `127.0.0.1:${nginx.tlsPort}`, pidFile: join(nginx.prefix, 'nginx.pid') } }, logger);
  }, 60_000);

  afterAll(async () => {
    // Whichever nginx runs now (the harness's or the one the agent started): by its pid file.
    const pid = Number(readFileSync(join(nginx.prefix, 'nginx.pid'), 'utf8').trim());
    if (pid > 1) process.kill(pid, 'SIGQUIT');
    await nginx.stop().catch(() => undefined);
    await sleep(300);
    harness.cleanup();
  });

  it('a killed nginx is started again and serves; its restart is counted, its workers do not stay behind', async () => {
    expect(await host.superviseNode()).toBe(false);
    const first = Number(readFileSync(join(nginx.prefix, 'nginx.pid'), 'utf8').trim());
    process.kill(first, 'SIGKILL');
    await gone(first);
    expect((await host.health([])).services.find((s) => s.name === 'nginx')?.up).toBe(false);
    expect(await host.superviseNode()).toBe(true);
    const second = Number(readFileSync(join(nginx.prefix, 'nginx.pid'), 'utf8').trim());
    expect(second).not.toBe(first);
    expect((await host.health([])).services.find((s) => s.name === 'nginx')).toMatchObject({ up: true, restarts: 1, crashLooping: false, message: 'exited (seen gone)' });
    // The killed master's workers did not stay behind.
    const orphans = readdirSync('/proc').filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('nginx: worker') && parentOf(stat) === 1;
      } catch {
        return false;
      }
    });
    expect(orphans).toEqual([]);
  });
});

describe('Redis kept running by the agent (no systemd)', () => {
  const harness = hostHarness(services, `pressluft-supervision-redis-${suffix}`, { restartPolicy: policy });
  const dir = join(harness.root, 'redis');
  const socket = join(dir, 'redis.sock');
  const pidFile = join(dir, 'redis.pid');
  let host: SiteHost;
  const redisPid = () => Number(readFileSync(pidFile, 'utf8').trim());

  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'redis.conf'), `port 0\nunixsocket ${socket}\nunixsocketperm 600\nsave ""\nappendonly no\ndir ${dir}\npidfile ${pidFile}\ndaemonize no\n`);
    const redis = { socket, adminUser: 'unused', adminPasswordFile: join(dir, 'unused'), keep: { command: ['/usr/bin/redis-server', join(dir, 'redis.conf')], pidFile } };
    host = new SiteHost({ ...harness.settings, redis }, logger);
  });

  afterAll(async () => {
    try {
      process.kill(redisPid(), 'SIGTERM');
    } catch {
      // not running
    }
    await sleep(300);
    harness.cleanup();
  });

  it('starts a Redis that is not running, and again after it was killed; the node reports it', async () => {
    expect(await host.superviseNode()).toBe(true);
    const first = redisPid();
    expect((await host.health([])).services.find((s) => s.name === 'redis')).toMatchObject({ up: true, restarts: 1 });
    process.kill(first, 'SIGKILL');
    await gone(first);
    expect((await host.health([])).services.find((s) => s.name === 'redis')).toMatchObject({ up: false });
    // The second start in a row waits for its backoff (300 ms here).
    for (let i = 0; i < 40 && redisPid() === first; i++) {
      await host.superviseNode();
      await sleep(50);
    }
    expect(redisPid()).not.toBe(first);
    expect((await host.health([])).services.find((s) => s.name === 'redis')).toMatchObject({ up: true, restarts: 2, message: 'killed by SIGKILL' });
  });
});
