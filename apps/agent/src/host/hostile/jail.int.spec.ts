// Hostile tenant vs the site jail (docs/adr/0022-site-jail.md). Site A attacks, site B is its
// neighbour. Each case states the attack; all run on the real stack (nginx, PHP-FPM, MariaDB,
// cgroups) with sites provisioned by SiteHost.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exec } from '../exec.js';
import { execJailed, siteJail } from '../jail.js';
import { sitePaths } from '../naming.js';
import { SiteHost } from '../site-host.js';
import { defaultTemplatesDir } from '../template.js';
import { processesOf, requireUser } from '../users.js';
import { hostHarness, QUIET, siteRequest } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const A = hostileSite(`jail-a-${suffix}`);
const B = hostileSite(`jail-b-${suffix}`);

/**
 * The attacker's PHP: every way it tries out of its tree, each answering what it got (false: refused).
 * As a mu-plugin it runs in every request and in every WP-CLI command that loads WordPress.
 */
const PROBE = `<?php
function pressluft_probe(array $t): array {
  $try = function (callable $f) { try { $r = @$f(); return $r === false || $r === null ? false : $r; } catch (\\Throwable $e) { return false; } };
  return [
    'listSites' => $try(fn () => scandir($t['sitesRoot'])),
    'neighbourConfig' => $try(fn () => file_get_contents($t['neighbourConfig'])),
    'listState' => $try(fn () => scandir($t['stateDir'])),
    'neighbourSecret' => $try(fn () => file_get_contents($t['neighbourSecret'])),
    'shadow' => $try(fn () => file_get_contents('/etc/shadow')),
    'writeEtc' => $try(fn () => file_put_contents('/etc/pressluft-jail-probe', 'x')),
    'writeVarTmp' => $try(fn () => file_put_contents('/var/tmp/pressluft-jail-probe', 'x')),
    'writeDevShm' => $try(fn () => file_put_contents('/dev/shm/pressluft-jail-probe', 'x')),
    'procOpen' => $try(fn () => proc_open('sleep 300 &', [], $pipes)),
    'exec' => $try(fn () => exec('sleep 300 &')),
    'fork' => $try(fn () => pcntl_fork()),
    'ffi' => $try(fn () => FFI::cdef('int system(const char *command);', 'libc.so.6')->system('sleep 300 &')),
  ];
}
`;

describe('hostile tenant vs the site jail', () => {
  const harness = hostHarness(services, `pressluft-jail-${suffix}`);
  const { settings } = harness;
  const host = new SiteHost(settings, createLogger({ name: 'jail-test', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const pathsA = sitePaths(settings, A.name, A.id);
  const pathsB = sitePaths(settings, B.name, B.id);
  const targets = { sitesRoot: settings.sitesRoot, neighbourConfig: pathsB.wpConfig, stateDir: settings.stateDir, neighbourSecret: pathsB.dbPasswordFile, out: join(pathsA.tmp, 'probe-cli.json') };
  const refusedAll = Object.fromEntries(['listSites', 'neighbourConfig', 'listState', 'neighbourSecret', 'shadow', 'writeEtc', 'writeVarTmp', 'writeDevShm', 'procOpen', 'exec', 'fork', 'ffi'].map((k) => [k, false]));
  const leftovers = async (uid: number) => {
    const out: string[] = [];
    for (const pid of await processesOf(uid)) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!cmdline.startsWith('php-fpm')) out.push(cmdline);
    }
    return out;
  };

  beforeAll(async () => {
    await host.provision(A, QUIET);
    await host.provision(B, QUIET);
    const muPlugins = join(pathsA.current, 'wp-content', 'mu-plugins');
    mkdirSync(muPlugins, { recursive: true });
    const config = `$t = json_decode('${JSON.stringify(targets)}', true);\n`;
    writeFileSync(
      join(muPlugins, 'probe.php'),
      `${PROBE}${config}if (PHP_SAPI === 'cli') file_put_contents($t['out'], json_encode(pressluft_probe($t)));\n`,
    );
    writeFileSync(join(pathsA.current, 'probe.php'), `${PROBE}${config}header('Content-Type: application/json'); echo json_encode(pressluft_probe($t));\n`);
  }, 120_000);

  afterAll(() => removeSites(host, harness, [A, B]), 120_000);

  it('PHP served through nginx cannot list the sites, read the neighbour or the agent, read /etc/shadow, write outside its tree or start a process', async () => {
    const answer = await siteRequest(services, A.domains[0] ?? '', '/probe.php');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(refusedAll);
  });

  it('WP-CLI running the site’s mu-plugin (a provision converge) gets the same refusals and leaves no process behind', async () => {
    const owner = await requireUser(`site_${A.id}`);
    rmSync(join(pathsA.tmp, 'probe-cli.json'), { force: true });
    await host.provision(A, QUIET);
    expect(JSON.parse(readFileSync(join(pathsA.tmp, 'probe-cli.json'), 'utf8'))).toEqual(refusedAll);
    expect(await leftovers(owner.uid)).toEqual([]);
    expect((await siteRequest(services, A.domains[0] ?? '', '/')).status).toBe(200);
  });

  it('native code in the PHP-FPM master’s jail (as after an LD_PRELOAD escape) sees only its own site and cannot write outside it', async () => {
    const owner = await requireUser(`site_${A.id}`);
    const master = readFileSync(pathsA.fpmPid, 'utf8').trim();
    // The attack as a shell in the master's mount namespace, as the site user; each line prints what it got.
    const script = [
      'ls -A "$1"; echo "sites:$?"',
      'cat "$2" >/dev/null 2>&1; echo "neighbour:$?"',
      'cat "$3" >/dev/null 2>&1; echo "secret:$?"',
      'cat /etc/shadow >/dev/null 2>&1; echo "shadow:$?"',
      'for f in /etc/x /var/tmp/x /dev/shm/x "$4/x"; do (: >"$f") 2>/dev/null; echo "write $f:$?"; done',
      ': >/tmp/pressluft-jail-private && echo "tmp:$?"',
      'ps -e -o user= | sort -u',
    ].join('\n');
    const argv = ['/usr/bin/nsenter', `--target=${master}`, '--mount', '--', '/usr/bin/setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--', '/bin/sh', '-c', script, 'attack'];
    const result = await exec([...argv, settings.sitesRoot, pathsB.wpConfig, pathsB.dbPasswordFile, settings.stateDir], { timeoutMs: 30_000 });
    expect(result.stdout.trim().split('\n')).toEqual([
      A.name,
      'sites:0',
      'neighbour:1',
      'secret:1',
      'shadow:1',
      'write /etc/x:2',
      'write /var/tmp/x:2',
      'write /dev/shm/x:2',
      `write ${settings.stateDir}/x:2`,
      'tmp:0',
      `site_${A.id}`,
    ]);
    // its /tmp is its own: nothing of it on the host
    expect(existsSync('/tmp/pressluft-jail-private')).toBe(false);
    // nginx still reaches the pool through the socket the jailed master made
    expect((await siteRequest(services, A.domains[0] ?? '', '/')).status).toBe(200);
  });

  it('a command in a site jail that starts a daemon leaves nothing running once it returns', async () => {
    const owner = await requireUser(`site_${A.id}`);
    const jail = await siteJail(settings, defaultTemplatesDir(), pathsA, { cgroupDirs: [], cwd: pathsA.tmp, pidNamespace: true });
    const result = await execJailed(jail, owner, ['/bin/sh', '-c', 'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo started'], { env: { PATH: '/usr/bin:/bin' }, timeoutMs: 30_000 });
    expect([result.code, result.stdout.trim(), result.stderr]).toEqual([0, 'started', '']);
    expect(await leftovers(owner.uid)).toEqual([]);
  });

  it('a command whose site cgroup cannot be joined never runs', async () => {
    const owner = await requireUser(`site_${A.id}`);
    const marker = join(pathsA.tmp, 'ran');
    const jail = await siteJail(settings, defaultTemplatesDir(), pathsA, { cgroupDirs: [join(harness.root, 'no-such-cgroup')], cwd: pathsA.tmp, pidNamespace: true });
    const result = await execJailed(jail, owner, ['/bin/sh', '-c', `: > ${marker}`], { env: { PATH: '/usr/bin:/bin' }, timeoutMs: 30_000 });
    expect(result.code).not.toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(join(settings.stateDir, 'jail'))).toEqual([]);
  });
});
