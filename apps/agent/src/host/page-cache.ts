import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { accountName, checkId, checkName, sitePaths, type SitePaths } from './naming.js';
import { Dir, ensureDir, isErrno, removeTree, type Ownership } from './safe-fs.js';
import { ensureSocketDir, type HostContext } from './site-support.js';
import { requireUser } from './users.js';

/**
 * The site's page cache directory (<pageCacheRoot>/site_<id>): nginx's user's, 0700, in a root
 * directory (0711) nobody else may list or write. No site user reaches it.
 */
export async function ensurePageCacheDir(paths: SitePaths, web: Ownership): Promise<void> {
  await ensureDir(dirname(paths.pageCacheDir), { mode: 0o711 });
  await ensureDir(paths.pageCacheDir, { mode: 0o700, owner: web });
}

// One purge (or removal) of a cache directory at a time.
const queues = new Map<string, Promise<unknown>>();

function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const next = (queues.get(key) ?? Promise.resolve()).then(work);
  const settled = next.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

/**
 * Moves the cache directory out of nginx's way by one rename in the root-only cache root (whatever
 * stands there, not followed), puts an empty one in its place (`web` given) and removes the old
 * one there (rm never follows a link). Leftovers of an interrupted purge go too. True when there was one.
 */
function discardCacheDir(paths: SitePaths, web: Ownership | undefined, queued = true): Promise<boolean> {
  const root = dirname(paths.pageCacheDir);
  const entry = basename(paths.pageCacheDir);
  const run = (work: () => Promise<boolean>) => (queued ? serialised(paths.pageCacheDir, work) : work());
  return run(async () => {
    const trash = `.purge-${entry}-`;
    let present = false;
    let leftovers: string[] = [];
    try {
      await Dir.with(root, [], async (area) => {
        const st = await area.lstat(entry);
        present = st !== undefined;
        if (st) await area.rename(entry, area, `${trash}${randomBytes(6).toString('hex')}`);
        if (st?.isDirectory() && web) await (await area.ensureDir(entry, { mode: 0o700, owner: web })).close();
        leftovers = (await area.entries()).map((e) => e.name).filter((name) => name.startsWith(trash));
      });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false; // no cache root: nothing cached
      throw error;
    }
    for (const name of leftovers) await removeTree(join(root, name));
    return present;
  });
}

/**
 * Empties the site's page cache (nothing there is fine): after a release switch, and on the site's
 * own request (purge socket). The directory itself stays: nginx writes a new entry's temp file in
 * it and makes only the level directories below it on demand, so a request filling the cache
 * while it was missing would answer 500. Its entries (the level directories) move into a trash
 * directory beside it in the root-only cache root, each by one rename, and are removed there.
 */
export async function purgePageCache(ctx: HostContext, name: string, id: string): Promise<void> {
  const paths = sitePaths(ctx.settings, checkName(name), checkId(id));
  const web = await requireUser(ctx.settings.nginx.user);
  const root = dirname(paths.pageCacheDir);
  const entry = basename(paths.pageCacheDir);
  const trash = `.purge-${entry}-${randomBytes(6).toString('hex')}`;
  const emptied = await serialised(paths.pageCacheDir, async () => {
    try {
      return await Dir.with(root, [], async (area) => {
        if (!(await area.lstat(entry))?.isDirectory()) {
          // Missing (or not a directory: moved aside whole, as a removal would): an empty one.
          await discardCacheDir(paths, web, false);
          return false;
        }
        const cache = await area.child(entry);
        const bin = await area.ensureDir(trash, { mode: 0o700, owner: { uid: 0, gid: 0 } });
        try {
          for (const item of await cache.entries()) await cache.rename(item.name, bin, item.name);
        } finally {
          await Promise.all([cache.close(), bin.close()]);
        }
        return true;
      });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false; // no cache root: nothing cached
      throw error;
    }
  });
  if (emptied) await removeTree(join(root, trash));
}

/** Removes the site's page cache directory (cache turned off, site removed); true when there was one. */
export function removePageCacheDir(paths: SitePaths): Promise<boolean> {
  return discardCacheDir(paths, undefined);
}

/**
 * The site's purge socket served by this agent (PurgeSockets), for the site's group only: at
 * provision, deploy and restore (ensureSiteServerBlock) and on every supervision round (so a new
 * agent serves every site's at once), in the site's socket directory (made here as well: a site
 * provisioned before the purge socket gets the directory's mode now).
 */
export async function servePurgeSocket(ctx: HostContext, name: string, id: string): Promise<void> {
  const paths = sitePaths(ctx.settings, checkName(name), checkId(id));
  const prepare = async () => {
    await ensureSocketDir(paths, await requireUser(ctx.settings.nginx.user));
    return (await requireUser(accountName(id))).gid;
  };
  await ctx.purgeSockets.ensure(paths.purgeSocket, prepare, () => purgePageCache(ctx, name, id));
}
