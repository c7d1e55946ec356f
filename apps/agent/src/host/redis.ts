import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { LoginResult } from './credentials.js';
import type { KeptService } from './service-process.js';
import { redact } from './errors.js';
import { RespConnection, RespError, type RespValue } from './resp.js';

/** The node's redis-server (HostSettings.redis): its socket and the admin ACL user the agent logs in as. */
export interface RedisSettings {
  /** The Unix socket (no TCP). Sites' PHP connects to it: it must be reachable (and visible in a site's jail). */
  readonly socket: string;
  /** An ACL user with every permission (`~* &* +@all`), made when the server was set up. */
  readonly adminUser: string;
  /** Root-only (0600) file holding the admin's password; the server knows only its SHA-256 (aclfile). */
  readonly adminPasswordFile: string;
  /** When set, the agent keeps redis-server running (machines without systemd): start argv and pid file. */
  readonly keep?: KeptService;
}

const ACCOUNT = /^site_[0-9a-z]{8}$/;

/**
 * What a site's ACL user may run, in order (later rules win). An object cache needs the data
 * types it stores, their key commands and MULTI/EXEC; nothing else. Key patterns (`~site_<id>:*`)
 * restrict every command that names keys; the denials below close the commands that reach the
 * whole keyspace or the server without naming a key.
 */
export const SITE_COMMAND_RULES: readonly string[] = [
  '-@all',
  // GET/SET/MGET/INCR/..., hashes, lists, sets, sorted sets; DEL/UNLINK/EXPIRE/EXISTS/TTL/...;
  // MULTI/EXEC; AUTH/HELLO/PING/SELECT (the server has one database).
  '+@string',
  '+@hash',
  '+@list',
  '+@set',
  '+@sortedset',
  '+@keyspace',
  '+@transaction',
  '+@connection',
  // Server administration and everything Redis marks dangerous: CONFIG, ACL, MODULE, DEBUG,
  // MONITOR, SHUTDOWN, KEYS, FLUSHALL, FLUSHDB, SWAPDB, MIGRATE, RESTORE, SORT, CLIENT LIST/KILL/PAUSE.
  '-@admin',
  '-@dangerous',
  // EVAL/FUNCTION/SCRIPT, pub/sub (channels are server-wide), blocking pops (hold a connection).
  '-@scripting',
  '-@pubsub',
  '-@blocking',
  // Commands no key pattern limits: key names (SCAN, RANDOMKEY), their count (DBSIZE),
  // invalidations for any prefix (CLIENT TRACKING ... BCAST), OBJECT, WAIT.
  '-scan',
  '-randomkey',
  '-dbsize',
  '-client|tracking',
  '-object',
  '-wait',
  // Object-cache drop-ins read the server version from INFO when they connect (and give up on
  // Redis if it fails): server-wide counters, never a key name or value.
  '+info',
];

/** `site_<id>:`: every key of the site starts with it (WP_REDIS_PREFIX), and its ACL user reaches only those. */
export function sitePrefix(account: string): string {
  if (!ACCOUNT.test(account)) throw new Error(`${JSON.stringify(account)} is not a site account`);
  return `${account}:`;
}

/**
 * The arguments of `ACL SETUSER <account> ...` that make the user exactly this: `reset` first, so
 * a converge takes away anything added by hand; enabled; exactly `passwords` (several during a
 * rotation: Redis users may have many); its own key prefix; no channels; SITE_COMMAND_RULES.
 */
export function siteUserRules(account: string, passwords: readonly string[]): string[] {
  const prefix = sitePrefix(account);
  const unique = [...new Set(passwords)];
  if (unique.length === 0 || unique.some((p) => !/^[A-Za-z0-9]{16,}$/.test(p))) throw new Error('redis passwords must be 16 or more letters and digits');
  return ['reset', 'on', ...unique.map((p) => `>${p}`), `~${prefix}*`, 'resetchannels', ...SITE_COMMAND_RULES];
}

function field(reply: RespValue, name: string): RespValue | undefined {
  if (!Array.isArray(reply)) return undefined;
  const at = reply.findIndex((v, i) => i % 2 === 0 && v === name);
  return at < 0 ? undefined : reply[at + 1];
}

/** Does `ACL GETUSER`'s reply describe an enabled user with exactly `passwords` and only the site's keys? */
export function userMatches(reply: RespValue, account: string, passwords: readonly string[]): boolean {
  const flags = field(reply, 'flags');
  const hashes = field(reply, 'passwords');
  const want = [...new Set(passwords)].map((p) => createHash('sha256').update(p).digest('hex')).sort();
  return (
    Array.isArray(flags) &&
    flags.includes('on') &&
    Array.isArray(hashes) &&
    JSON.stringify([...hashes].sort()) === JSON.stringify(want) &&
    field(reply, 'keys') === `~${sitePrefix(account)}*` &&
    field(reply, 'channels') === ''
  );
}

/**
 * `ACL GETUSER`'s reply as text without the password hashes (a rotation changes them, and they
 * are a secret's hash): flags, commands, keys, channels, selectors. What drift compares. Pure.
 */
export function aclRulesText(reply: RespValue): string {
  const flags = field(reply, 'flags');
  return [
    `flags ${Array.isArray(flags) ? [...flags].map(String).sort().join(' ') : ''}`,
    ...['commands', 'keys', 'channels'].map((name) => `${name} ${JSON.stringify(field(reply, name) ?? null)}`),
    `selectors ${JSON.stringify(field(reply, 'selectors') ?? [])}`,
  ].join('\n');
}

function ok(reply: RespValue, what: string, secrets: readonly string[] = []): void {
  if (reply instanceof RespError) throw new Error(redact(`redis ${what}: ${reply.message}`, secrets));
  if (reply !== 'OK') throw new Error(`redis ${what}: unexpected answer ${JSON.stringify(reply)}`);
}

/** A connection logged in as the node's admin; the password travels only in the AUTH command. */
async function asAdmin<T>(redis: RedisSettings, work: (connection: RespConnection) => Promise<T>): Promise<T> {
  const password = (await readFile(redis.adminPasswordFile, 'utf8')).trim();
  const connection = await RespConnection.open(redis.socket);
  try {
    ok(await connection.command(['AUTH', redis.adminUser, password]), `AUTH as ${redis.adminUser}`);
    return await work(connection);
  } finally {
    connection.close();
  }
}

/**
 * Apply, then verify: `ACL SETUSER` (reset + rules: idempotent) makes exactly `passwords`
 * log the site's user in, `ACL SAVE` keeps it across a server restart, `ACL GETUSER` verifies.
 * Open connections of the user stay open (Redis checks permissions per command).
 */
export async function ensureRedisUser(redis: RedisSettings, account: string, passwords: readonly string[]): Promise<void> {
  await asAdmin(redis, async (connection) => {
    ok(await connection.command(['ACL', 'SETUSER', account, ...siteUserRules(account, passwords)]), `ACL SETUSER ${account}`, passwords);
    ok(await connection.command(['ACL', 'SAVE']), 'ACL SAVE');
    if (!userMatches(await connection.command(['ACL', 'GETUSER', account]), account, passwords)) {
      throw new Error(`redis user ${account} does not hold its passwords, key pattern and channels after ACL SETUSER`);
    }
  });
}

/** Every key under `prefix` (SCAN MATCH + UNLINK); how many were removed. */
async function sweepKeys(connection: RespConnection, prefix: string): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const page = await connection.command(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000']);
    const [next, keys] = Array.isArray(page) ? page : [];
    if (typeof next !== 'string' || !Array.isArray(keys)) throw new Error(`redis SCAN: unexpected answer ${JSON.stringify(page)}`);
    const names = keys.filter((k): k is string => typeof k === 'string');
    if (names.length > 0) {
      const count = await connection.command(['UNLINK', ...names]);
      if (typeof count !== 'number') throw new Error(`redis UNLINK: unexpected answer ${JSON.stringify(count)}`);
      removed += count;
    }
    cursor = next;
  } while (cursor !== '0');
  return removed;
}

/** The site's object-cache keys removed (a restore: the cached options are the old database's). Returns how many. */
export function flushSiteKeys(redis: RedisSettings, account: string): Promise<number> {
  return asAdmin(redis, (connection) => sweepKeys(connection, sitePrefix(account)));
}

/**
 * Removes the site's user (Redis closes its connections, so nothing writes while we sweep), then
 * every key under its prefix (SCAN MATCH + UNLINK, as the admin); saves the ACL file and
 * verifies the user is gone. Already gone is fine. Returns how many keys were removed.
 */
export async function removeRedisUser(redis: RedisSettings, account: string): Promise<number> {
  const prefix = sitePrefix(account);
  return asAdmin(redis, async (connection) => {
    const deleted = await connection.command(['ACL', 'DELUSER', account]);
    if (typeof deleted !== 'number') throw new Error(`redis ACL DELUSER ${account}: ${deleted instanceof RespError ? deleted.message : JSON.stringify(deleted)}`);
    const removed = await sweepKeys(connection, prefix);
    ok(await connection.command(['ACL', 'SAVE']), 'ACL SAVE');
    if ((await connection.command(['ACL', 'GETUSER', account])) !== null) throw new Error(`redis user ${account} still exists after ACL DELUSER`);
    return removed;
  });
}

/** The site's ACL user as aclRulesText shows it, or undefined when there is none. */
export async function redisUserRules(redis: RedisSettings, account: string): Promise<string | undefined> {
  const reply = await asAdmin(redis, (connection) => connection.command(['ACL', 'GETUSER', account]));
  if (reply instanceof RespError) throw new Error(`redis ACL GETUSER ${account}: ${reply.message}`);
  return reply === null ? undefined : aclRulesText(reply);
}

/** Does `password` log `user` in on the socket (the rotation's verify)? */
export async function tryRedisLogin(socket: string, user: string, password: string): Promise<LoginResult> {
  const connection = await RespConnection.open(socket);
  try {
    const reply = await connection.command(['AUTH', user, password]);
    if (reply === 'OK') return 'accepted';
    return reply instanceof RespError && reply.message.startsWith('WRONGPASS') ? 'denied' : 'error';
  } finally {
    connection.close();
  }
}
