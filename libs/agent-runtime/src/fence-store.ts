import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { siteFenceVerdict, type FenceVerdict, type HeldFence } from '@pressluft/domain';
import { SiteConfig } from '@pressluft/proto';

/** What the node last accepted for a site: survives agent restarts and machine crashes. */
export type FenceRecord = HeldFence;

const SITE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The node's durable fence store: one small JSON file per site, replaced atomically
 * (write temp completely, fsync, rename, fsync dir), so a crash or a failed write leaves either
 * the old or the new record.
 */
export class FenceStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  get(site: string): FenceRecord | undefined {
    try {
      const parsed = JSON.parse(readFileSync(this.path(site), 'utf8')) as Partial<FenceRecord>;
      if (typeof parsed.fence !== 'number' || typeof parsed.command !== 'string') return undefined;
      return {
        fence: parsed.fence,
        command: parsed.command,
        attempt: parsed.attempt ?? 1,
        done: parsed.done === true,
        siteId: parsed.siteId ?? '',
        deleted: parsed.deleted === true,
        deleting: parsed.deleting === true,
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * apply, duplicate (the command holding the fence, redelivered) or stale. A site created again
   * under a deleted one's name is a new incarnation (another id) and starts over; any command for
   * the deleted incarnation stays stale for good.
   */
  verdict(site: string, siteId: string, fence: number): FenceVerdict {
    return siteFenceVerdict(this.get(site), siteId, fence);
  }

  put(site: string, record: FenceRecord): void {
    this.writeDurably(this.path(site), JSON.stringify(record));
  }

  /** The configuration a successful command converged the site to (what a restart resumes). */
  saveAppliedConfig(site: string, config: SiteConfig): void {
    this.writeDurably(this.configPath(site), JSON.stringify(SiteConfig.toJSON(config)));
  }

  dropAppliedConfig(site: string): void {
    rmSync(this.configPath(site), { force: true });
  }

  appliedConfigs(): Map<string, SiteConfig> {
    const out = new Map<string, SiteConfig>();
    for (const [site] of this.sites()) {
      try {
        out.set(site, SiteConfig.fromJSON(JSON.parse(readFileSync(this.configPath(site), 'utf8'))));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return out;
  }

  private configPath(site: string): string {
    return this.path(site).replace(/\.json$/, '.applied');
  }

  /**
   * The temp file gets every byte (a short write is continued; a write that makes no progress
   * or fails, e.g. a full disk or a file size limit, throws) and its size is checked after the
   * fsync: only a complete file is renamed over the previous one, which stays as it was otherwise.
   */
  private writeDurably(path: string, content: string): void {
    const temp = `${path}.tmp`;
    const bytes = Buffer.from(content, 'utf8');
    const fd = openSync(temp, 'w', 0o600);
    try {
      for (let at = 0; at < bytes.length; ) {
        const written = writeSync(fd, bytes, at);
        if (written <= 0) throw new Error(`${temp}: short write (${at} of ${bytes.length} bytes)`);
        at += written;
      }
      fsyncSync(fd);
      const { size } = fstatSync(fd);
      if (size !== bytes.length) throw new Error(`${temp}: ${size} bytes on disk, ${bytes.length} written`);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /** Every site the node holds (tombstones of deleted sites left out). */
  sites(): Map<string, FenceRecord> {
    const out = new Map<string, FenceRecord>();
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.json')) continue;
      const site = file.slice(0, -5);
      const record = SITE.test(site) ? this.get(site) : undefined;
      if (record && !record.deleted) out.set(site, record);
    }
    return out;
  }

  private path(site: string): string {
    if (!SITE.test(site)) throw new Error(`invalid site name ${JSON.stringify(site.slice(0, 80))}`);
    return join(this.dir, `${site}.json`);
  }
}
