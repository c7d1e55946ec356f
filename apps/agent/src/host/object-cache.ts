import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { rotationPasswords } from './credentials.js';
import { StepError } from './errors.js';
import { readIfExists, writeFileAtomic } from './safe-fs.js';
import type { SitePaths } from './naming.js';
import { ensureRedisUser, removeRedisUser, sitePrefix, tryRedisLogin, type RedisSettings } from './redis.js';
import { ensureSecret } from './secrets.js';
import type { HostSettings } from './settings.js';
import { phpSingleQuoted, renderTemplate } from './template.js';
import { randomString } from './wordpress.js';

/**
 * A site's Redis object cache (spec.cache.redis): its own ACL user `site_<id>` on the node's
 * redis-server, reaching only keys `site_<id>:*`, with a random password kept root-only beside
 * the database's and rotated with it. wp-config.php carries the login for a drop-in
 * (WP_REDIS_* constants). Invariant: the password file is written before the user exists and
 * removed only after it is gone, so "the file exists" means "the site has (or may have) a user".
 */

/** Root-only (0600): the site's Redis password. */
export function redisPasswordFile(paths: SitePaths): string {
  return join(paths.state, 'redis-password');
}

/** Root-only: the Redis password a rotation is switching to. */
export function redisPendingPasswordFile(paths: SitePaths): string {
  return join(paths.state, 'redis-password.pending');
}

/** What wp-config.php needs to reach the site's part of Redis. */
export interface ObjectCacheLogin {
  readonly socket: string;
  readonly user: string;
  readonly password: string;
}

/** The node's Redis, or RedisUnavailable for a site that asks for a cache on a node without one. */
export function requireRedis(settings: HostSettings): RedisSettings {
  if (!settings.redis) throw new StepError('redis', 'RedisUnavailable', 'spec.cache.redis is on, but this node has no Redis configured (PRESSLUFT_AGENT_REDIS_SOCKET)');
  return settings.redis;
}

/** Does the site have a Redis user (or may it have one, after an interrupted removal)? */
export async function hasObjectCache(paths: SitePaths): Promise<boolean> {
  return (await readIfExists(redisPasswordFile(paths))) !== undefined;
}

/**
 * The site's Redis user with its stored password, generated once; a pending one left by an
 * interrupted rotation keeps working too (it may already be in wp-config.php).
 */
export async function ensureObjectCache(redis: RedisSettings, account: string, paths: SitePaths, secrets: string[]): Promise<ObjectCacheLogin> {
  const password = await ensureSecret(redisPasswordFile(paths), () => randomString(32));
  const pending = (await readIfExists(redisPendingPasswordFile(paths)))?.trim();
  secrets.push(password, ...(pending ? [pending] : []));
  await ensureRedisUser(redis, account, pending ? [password, pending] : [password]);
  return { socket: redis.socket, user: account, password };
}

/** The site's user and keys removed, then its password files (`paths` undefined: another site holds the name). Returns the keys removed. */
export async function removeObjectCache(redis: RedisSettings, account: string, paths: SitePaths | undefined): Promise<number> {
  const removed = await removeRedisUser(redis, account);
  if (paths) await Promise.all([redisPasswordFile(paths), redisPendingPasswordFile(paths)].map((file) => rm(file, { force: true })));
  return removed;
}

/** wp-config.php's object-cache lines: the WP_REDIS_* constants, or a comment when the cache is off. */
export function renderObjectCache(template: string, login: ObjectCacheLogin | undefined): string {
  if (!login) return '// No Redis object cache (spec.cache.redis is off).';
  const values = { redis_socket: login.socket, redis_user: login.user, redis_password: login.password, redis_prefix: sitePrefix(login.user) };
  return renderTemplate(template, values, phpSingleQuoted, 'redis-object-cache.php').trimEnd();
}

/**
 * The Redis half of a credential rotation, step for step beside the database's (credentials.ts):
 * the new password pending on disk, then valid beside the old one, then in wp-config.php, then
 * the only one, then stored. Resumes an interrupted rotation like the database's does.
 */
export class ObjectCacheRotation {
  private constructor(
    private readonly redis: RedisSettings,
    private readonly account: string,
    private readonly paths: SitePaths,
    readonly old: string,
    readonly next: string,
    readonly resumed: boolean,
  ) {}

  /** undefined when the site has no Redis user; otherwise the passwords, the new one written as pending. */
  static async start(settings: HostSettings, account: string, paths: SitePaths): Promise<ObjectCacheRotation | undefined> {
    if (!(await hasObjectCache(paths))) return undefined;
    const redis = requireRedis(settings);
    const { old, next, resumed } = rotationPasswords(await readIfExists(redisPasswordFile(paths)), await readIfExists(redisPendingPasswordFile(paths)), () => randomString(32));
    if (!resumed) await writeFileAtomic(redisPendingPasswordFile(paths), `${next}\n`, { mode: 0o600 });
    return new ObjectCacheRotation(redis, account, paths, old, next, resumed);
  }

  /** Old and new both log in. */
  accept(): Promise<void> {
    return ensureRedisUser(this.redis, this.account, [this.next, this.old]);
  }

  get login(): ObjectCacheLogin {
    return { socket: this.redis.socket, user: this.account, password: this.next };
  }

  /** Only the new one logs in. */
  revoke(): Promise<void> {
    return ensureRedisUser(this.redis, this.account, [this.next]);
  }

  async store(): Promise<void> {
    await writeFileAtomic(redisPasswordFile(this.paths), `${this.next}\n`, { mode: 0o600 });
    await rm(redisPendingPasswordFile(this.paths), { force: true });
  }

  async verify(): Promise<void> {
    const [oldLogin, newLogin] = [await tryRedisLogin(this.redis.socket, this.account, this.old), await tryRedisLogin(this.redis.socket, this.account, this.next)];
    if (oldLogin !== 'denied') throw new StepError('verify', 'OldRedisPasswordValid', `redis user ${this.account}: the old password is still ${oldLogin === 'accepted' ? 'accepted' : 'not clearly denied'}`);
    if (newLogin !== 'accepted') throw new StepError('verify', 'NewRedisPasswordRejected', `redis user ${this.account}: the new password is ${newLogin === 'denied' ? 'denied' : 'not clearly accepted'}`);
  }
}
