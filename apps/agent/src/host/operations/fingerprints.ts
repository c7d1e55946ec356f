import { fingerprintsOf } from '../fingerprints.js';
import { userGrants } from '../mariadb.js';
import { accountName, checkId, checkName, sitePaths } from '../naming.js';
import { inTree, readIfExists } from '../safe-fs.js';
import { redisUserRules } from '../redis.js';
import { databasePresent, type HostContext } from '../site-support.js';
import { lookupUser } from '../users.js';

/**
 * Fingerprints of everything the agent manages for the site (see fingerprints.ts): the server
 * block, the PHP-FPM configuration, wp-config.php (a digest only: it holds secrets), `current`,
 * the Linux user and the tree's owner, the database, its user and that user's grants, the Redis
 * ACL user's rules on a node with Redis (without passwords). Only reads, and in the site's tree
 * only through descriptors (a symlink or FIFO the tenant planted is not followed, not opened
 * blocking: that item reads as missing); the control plane compares them with what the site's
 * last converge left.
 */
export async function siteFingerprints(ctx: HostContext, name: string, id: string): Promise<Record<string, string>> {
  const paths = sitePaths(ctx.settings, checkName(name), checkId(id));
  const account = accountName(id);
  const read = (path: string) => readIfExists(path).catch(() => undefined);
  const wpConfig = async () => {
    const file = await inTree(paths.root, ['shared'], (shared) => shared.readFile('wp-config.php')).catch(() => undefined);
    return file && { content: file.content, mode: file.stat.mode, uid: file.stat.uid, gid: file.stat.gid };
  };
  const user = async () => {
    const owner = await lookupUser(account).catch(() => undefined);
    return owner && { uid: owner.uid, treeUid: (await inTree(paths.root, [], (root) => root.stat()).catch(() => undefined))?.uid };
  };
  const database = async () => {
    const presence = await databasePresent(ctx, id).catch(() => ({ database: false, user: false }));
    const grants = presence.user ? await userGrants(ctx.settings.mariadb.command, account).catch(() => undefined) : undefined;
    return { ...presence, grants };
  };
  const redis = ctx.settings.redis;
  const redisUser = async () => (redis ? redisUserRules(redis, account).catch(() => undefined) : undefined);
  const [serverBlock, fpmConfig, wp, currentTarget, owner, db, acl] = await Promise.all([
    read(paths.nginxFile),
    read(paths.fpmConfig),
    wpConfig(),
    inTree(paths.root, [], (root) => root.readlink('current')).catch(() => undefined),
    user(),
    database(),
    redisUser(),
  ]);
  return fingerprintsOf({
    ...(serverBlock !== undefined ? { serverBlock } : {}),
    ...(fpmConfig !== undefined ? { fpmConfig } : {}),
    ...(wp ? { wpConfig: wp } : {}),
    ...(currentTarget !== undefined ? { currentTarget } : {}),
    ...(owner ? { user: owner } : {}),
    database: db.database,
    databaseUser: db.user,
    ...(db.grants !== undefined ? { grants: db.grants } : {}),
    ...(acl !== undefined ? { redisUser: acl } : {}),
  });
}
