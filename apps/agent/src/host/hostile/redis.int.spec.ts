import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostHarness, RecordingReporter, siteRequest } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';
import { sitePaths } from '../naming.js';
import { redisPasswordFile } from '../object-cache.js';
import { tryRedisLogin } from '../redis.js';
import { RespConnection, RespError, type RespValue } from '../resp.js';
import { SiteHost } from '../site-host.js';
import { lookupUser } from '../users.js';

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const A = hostileSite(`rda-${suffix}`, { cache: { redis: true } });
const B = hostileSite(`rdb-${suffix}`, { cache: { redis: true } });
const accountA = `site_${A.id}`;
const accountB = `site_${B.id}`;

/** One command on a fresh connection logged in as `user`; error replies come back as `error: <message>`. */
async function as(user: string, password: string, args: string[]): Promise<RespValue | string> {
  const connection = await RespConnection.open(services.redis.socket);
  try {
    const auth = await connection.command(['AUTH', user, password]);
    if (auth !== 'OK') throw new Error(`AUTH ${user}: ${JSON.stringify(auth)}`);
    const reply = await connection.command(args);
    return reply instanceof RespError ? `error: ${reply.message}` : reply;
  } finally {
    connection.close();
  }
}
const adminPassword = () => readFileSync(services.redis.adminPasswordFile, 'utf8').trim();
const admin = (args: string[]) => as(services.redis.adminUser, adminPassword(), args);

/**
 * What a hostile site's PHP does with its own Redis login, run by its own pool through nginx:
 * the WP_REDIS_* constants come from its wp-config.php (SHORTINIT: WordPress's minimal load), the
 * client is phpredis, as a drop-in uses it. Every attempt's result (or its error) as JSON.
 */
const PROBE = String.raw`<?php
define( 'SHORTINIT', true );
define( 'ABSPATH', __DIR__ . '/' );
require __DIR__ . '/wp-config.php';
$victim = preg_replace( '/[^a-z0-9_]/', '', $_GET['victim'] );
$r = new Redis();
$r->connect( WP_REDIS_PATH );
$out = [];
$try = function ( $name, $fn ) use ( $r, &$out ) {
	$r->clearLastError();
	try {
		$v = $fn();
	} catch ( Throwable $e ) {
		$out[ $name ] = 'error: ' . $e->getMessage();
		return;
	}
	$out[ $name ] = ( $v === false && $r->getLastError() ) ? 'error: ' . $r->getLastError() : $v;
};
$try( 'auth', fn() => $r->auth( [ WP_REDIS_USERNAME, WP_REDIS_PASSWORD ] ) );
$try( 'own set', fn() => $r->rawCommand( 'SET', WP_REDIS_PREFIX . 'probe', 'mine', 'EX', '300' ) );
$try( 'own get', fn() => $r->rawCommand( 'GET', WP_REDIS_PREFIX . 'probe' ) );
$try( 'own incr', fn() => $r->rawCommand( 'INCR', WP_REDIS_PREFIX . 'counter' ) );
$attacks = [
	'read B' => [ 'GET', "$victim:secret" ],
	'mget B' => [ 'MGET', WP_REDIS_PREFIX . 'probe', "$victim:secret" ],
	'write B' => [ 'SET', "$victim:secret", 'pwned' ],
	'delete B' => [ 'DEL', "$victim:secret" ],
	'expire B' => [ 'EXPIRE', "$victim:secret", '1' ],
	'rename onto B' => [ 'RENAME', WP_REDIS_PREFIX . 'probe', "$victim:secret" ],
	'copy B' => [ 'COPY', "$victim:secret", WP_REDIS_PREFIX . 'stolen' ],
	'unprefixed key' => [ 'SET', 'global', 'x' ],
	'FLUSHALL' => [ 'FLUSHALL' ],
	'FLUSHDB' => [ 'FLUSHDB' ],
	'CONFIG SET' => [ 'CONFIG', 'SET', 'dir', '/tmp' ],
	'CONFIG GET' => [ 'CONFIG', 'GET', '*' ],
	'KEYS' => [ 'KEYS', '*' ],
	'SCAN' => [ 'SCAN', '0', 'MATCH', "$victim:*" ],
	'RANDOMKEY' => [ 'RANDOMKEY' ],
	'ACL LIST' => [ 'ACL', 'LIST' ],
	'ACL SETUSER' => [ 'ACL', 'SETUSER', WP_REDIS_USERNAME, '~*' ],
	'SCRIPT FLUSH' => [ 'SCRIPT', 'FLUSH' ],
	'EVAL' => [ 'EVAL', "return redis.call('get', KEYS[1])", '1', "$victim:secret" ],
	'MODULE LOAD' => [ 'MODULE', 'LOAD', '/tmp/evil.so' ],
	'DEBUG' => [ 'DEBUG', 'SLEEP', '0' ],
	'CLIENT LIST' => [ 'CLIENT', 'LIST' ],
	'CLIENT KILL' => [ 'CLIENT', 'KILL', 'TYPE', 'normal' ],
	'CLIENT TRACKING' => [ 'CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', "$victim:" ],
	'SUBSCRIBE' => [ 'PUBLISH', "$victim:channel", 'x' ],
	'SELECT another db' => [ 'SELECT', '1' ],
	'SHUTDOWN' => [ 'SHUTDOWN', 'NOSAVE' ],
];
foreach ( $attacks as $name => $command ) {
	$try( $name, fn() => $r->rawCommand( ...$command ) );
}
$try( 'auth as B', fn() => $r->auth( [ $victim, str_repeat( 'x', 32 ) ] ) );
echo json_encode( $out );
`;

describe('hostile tenant: Redis object cache across sites (real redis-server, nginx, PHP-FPM)', () => {
  const harness = hostHarness(services, `pressluft-redis-${suffix}`, { redis: services.redis });
  const host = new SiteHost(harness.settings, createLogger({ name: 'redis-hostile-test', level: 'silent' }));
  const pathsA = sitePaths(harness.settings, A.name, A.id);
  const pathsB = sitePaths(harness.settings, B.name, B.id);
  const passwordOf = (paths: typeof pathsA) => readFileSync(redisPasswordFile(paths), 'utf8').trim();

  beforeAll(async () => {
    await host.provision(A, new RecordingReporter());
    await host.provision(B, new RecordingReporter());
    // A's own PHP file in its own release (what a tenant deploys).
    const probe = join(pathsA.current, 'redis-probe.php');
    writeFileSync(probe, PROBE, { mode: 0o644 });
    const owner = await lookupUser(accountA);
    if (!owner) throw new Error(`${accountA} missing`);
    chownSync(probe, owner.uid, owner.gid);
  }, 300_000);

  afterAll(() => removeSites(host, harness, [A, B]), 180_000);

  async function probe(): Promise<Record<string, unknown>> {
    const answer = await siteRequest(services, A.domains[0] ?? '', `/redis-probe.php?victim=${accountB}`);
    if (answer.status !== 200) console.error(readdirSync(pathsA.logs).map((f) => readFileSync(join(pathsA.logs, f), 'utf8')).join('\n'));
    expect(answer.status, answer.body).toBe(200);
    return JSON.parse(answer.body) as Record<string, unknown>;
  }

  it('gives each site an ACL user on its own prefix (password root-only, 0600), wired into wp-config.php (root:site 0640); the user cannot even ask who it is', async () => {
    for (const [paths, account] of [[pathsA, accountA], [pathsB, accountB]] as const) {
      const config = readFileSync(paths.wpConfig, 'utf8');
      expect(config).toContain(`define( 'WP_REDIS_USERNAME', '${account}' );`);
      expect(config).toContain(`define( 'WP_REDIS_PREFIX', '${account}:' );`);
      expect(config).toContain(`define( 'WP_REDIS_PASSWORD', '${passwordOf(paths)}' );`);
      expect(config).toContain(`define( 'WP_REDIS_PATH', '${services.redis.socket}' );`);
      const st = statSync(paths.wpConfig);
      expect([st.uid, st.mode & 0o777]).toEqual([0, 0o640]);
      expect(statSync(redisPasswordFile(paths)).mode & 0o777).toBe(0o600);
      expect(await as(account, passwordOf(paths), ['ACL', 'WHOAMI'])).toMatch(/NOPERM/);
      expect(await as(account, passwordOf(paths), ['PING'])).toBe('PONG');
    }
    const user = await admin(['ACL', 'GETUSER', accountA]);
    expect(JSON.stringify(user)).toContain(`"~${accountA}:*"`);
  });

  it("site A's PHP (its pool, through nginx) uses its prefix; it cannot read, write or delete B's keys, run FLUSHALL/CONFIG/KEYS/ACL/SCRIPT/MODULE/DEBUG/CLIENT, or log in as B", async () => {
    // B's data and the server's state the attack must leave as they are.
    expect(await as(accountB, passwordOf(pathsB), ['SET', `${accountB}:secret`, 'b-only'])).toBe('OK');
    const before = { acl: await admin(['ACL', 'LIST']), dir: await admin(['CONFIG', 'GET', 'dir']), size: await admin(['DBSIZE']) };

    const out = await probe();
    expect(out['auth']).toBe(true);
    expect(out['own set']).toBe(true);
    expect(out['own get']).toBe('mine');
    expect(typeof out['own incr']).toBe('number');
    const noKey = /^error: NOPERM .*key/;
    const noCommand = /^error: NOPERM .*(command|run)/;
    const expected: Record<string, RegExp> = {
      'read B': noKey,
      'mget B': noKey,
      'write B': noKey,
      'delete B': noKey,
      'expire B': noKey,
      'rename onto B': noKey,
      'copy B': noKey,
      'unprefixed key': noKey,
      FLUSHALL: noCommand,
      FLUSHDB: noCommand,
      'CONFIG SET': noCommand,
      'CONFIG GET': noCommand,
      KEYS: noCommand,
      SCAN: noCommand,
      RANDOMKEY: noCommand,
      'ACL LIST': noCommand,
      'ACL SETUSER': noCommand,
      'SCRIPT FLUSH': noCommand,
      EVAL: noCommand,
      // Redis 7 refuses these to every connection (enable-module-command, enable-debug-command);
      // the ACL refuses them as well (checked with ACL DRYRUN below).
      'MODULE LOAD': /^error: ERR MODULE command not allowed/,
      DEBUG: /^error: ERR DEBUG command not allowed/,
      'CLIENT LIST': noCommand,
      'CLIENT KILL': noCommand,
      'CLIENT TRACKING': noCommand,
      SUBSCRIBE: noCommand,
      'SELECT another db': /^error: ERR DB index is out of range/,
      SHUTDOWN: noCommand,
      'auth as B': /^error: WRONGPASS/,
    };
    for (const [attack, pattern] of Object.entries(expected)) expect(String(out[attack]), attack).toMatch(pattern);

    expect(await admin(['ACL', 'DRYRUN', accountA, 'MODULE', 'LOAD', '/tmp/evil.so'])).toMatch(/no permissions to run the 'module\|load' command/);
    expect(await admin(['ACL', 'DRYRUN', accountA, 'DEBUG', 'SLEEP', '0'])).toMatch(/no permissions to run the 'debug' command/);

    // Nothing of B's or the server's changed; A's keys are all under its prefix.
    expect(await as(accountB, passwordOf(pathsB), ['GET', `${accountB}:secret`])).toBe('b-only');
    expect(await admin(['ACL', 'LIST'])).toEqual(before.acl);
    expect(await admin(['CONFIG', 'GET', 'dir'])).toEqual(before.dir);
    expect(await admin(['EXISTS', 'global', `${accountA}:stolen`])).toBe(0);
    expect(await admin(['DBSIZE'])).toBe((before.size as number) + 2);
  });

  it('after a credential rotation the old Redis password is refused, the new one works (and A still reaches its keys)', async () => {
    const old = passwordOf(pathsA);
    const reporter = new RecordingReporter();
    await host.rotateDatabasePassword(A.name, A.id, reporter);
    const next = passwordOf(pathsA);
    expect(next).not.toBe(old);
    expect(reporter.steps).toEqual(['validate', 'database', 'redis', 'wp-config', 'drain', 'revoke', 'state', 'verify']);
    expect(await tryRedisLogin(services.redis.socket, accountA, old)).toBe('denied');
    expect(await tryRedisLogin(services.redis.socket, accountA, next)).toBe('accepted');
    expect(readFileSync(pathsA.wpConfig, 'utf8')).toContain(`define( 'WP_REDIS_PASSWORD', '${next}' );`);
    expect([...reporter.lines, ...reporter.progressLines].join('\n')).not.toContain(next);
    const out = await probe();
    expect(out['auth']).toBe(true);
    expect(out['own get']).toBe('mine');
    expect(String(out['read B'])).toMatch(/NOPERM/);
  }, 120_000);

  it('a hand edit of the site\'s Redis user (every key) shows as drift of redis.user only; a converge puts the rules back', async () => {
    const before = await host.fingerprints(A.name, A.id);
    expect(before['redis.user']).toMatch(/^[0-9a-f]{64}$/);
    expect(await admin(['ACL', 'SETUSER', accountA, 'allkeys'])).toBe('OK');
    const edited = await host.fingerprints(A.name, A.id);
    expect(Object.keys(before).filter((key) => before[key] !== edited[key])).toEqual(['redis.user']);
    await host.provision(A, new RecordingReporter());
    expect(await host.fingerprints(A.name, A.id)).toEqual(before);
    expect(await as(accountA, passwordOf(pathsA), ['GET', `${accountB}:secret`])).toMatch(/^error: NOPERM/);
  }, 120_000);

  it('turning the cache off removes the user, its keys and its password; the site keeps serving', async () => {
    const reporter = new RecordingReporter();
    await host.provision({ ...B, cache: { redis: false } }, reporter);
    expect(reporter.steps).toContain('redis');
    expect(await admin(['ACL', 'GETUSER', accountB])).toBeNull();
    expect(await admin(['EXISTS', `${accountB}:secret`])).toBe(0);
    expect(existsSync(redisPasswordFile(pathsB))).toBe(false);
    expect(readFileSync(pathsB.wpConfig, 'utf8')).not.toContain('WP_REDIS_');
    expect((await siteRequest(services, B.domains[0] ?? '')).status).toBe(200);
  }, 120_000);

  it('removing the site removes its ACL user and every key under its prefix', async () => {
    const password = passwordOf(pathsA);
    expect(await admin(['EXISTS', `${accountA}:probe`, `${accountA}:counter`])).toBe(2);
    const reporter = new RecordingReporter();
    await host.remove(A.name, A.id, reporter);
    expect(reporter.steps).toEqual(['nginx', 'php-fpm', 'cgroup', 'database', 'redis', 'tree', 'state', 'user']);
    expect(await admin(['ACL', 'GETUSER', accountA])).toBeNull();
    expect(await tryRedisLogin(services.redis.socket, accountA, password)).toBe('denied');
    expect(await admin(['EXISTS', `${accountA}:probe`, `${accountA}:counter`])).toBe(0);
    expect(JSON.stringify(await admin(['ACL', 'LIST']))).not.toContain(accountA);
  }, 120_000);
});
