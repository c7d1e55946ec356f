import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FenceStore, type FenceRecord } from './fence-store.js';

const record = (fence: number, extra: Partial<FenceRecord> = {}): FenceRecord => ({ fence, command: `c-${fence}`, attempt: 1, done: true, siteId: 'abc12345', deleted: false, deleting: false, ...extra });

describe('FenceStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fences-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['nothing applied yet', undefined, 1, 'apply'],
    ['a newer fence', 3, 4, 'apply'],
    ['the same fence (redelivery)', 3, 3, 'duplicate'],
    ['an older fence', 3, 2, 'stale'],
    ['fence 0 is never valid', undefined, 0, 'stale'],
  ] as const)('%s', (_, held, fence, verdict) => {
    const store = new FenceStore(dir);
    if (held !== undefined) store.put('shop', record(held));
    expect(store.verdict('shop', 'abc12345', fence)).toBe(verdict);
  });

  // The disk fills up (or a file size limit hits) while the agent records a fence: the kernel
  // takes the first bytes of the record (a short write) and refuses the rest (EFBIG). Renaming
  // that temp file over the record would leave a truncated JSON that no restart can read.
  it('a write cut short by the file size limit keeps the previous record and leaves no temp file', () => {
    const store = new FenceStore(dir);
    store.put('shop', record(3));
    const limit = (fsize: string) => execFileSync('/usr/bin/prlimit', ['--pid', String(process.pid), `--fsize=${fsize}`]);
    // Node ignores SIGXFSZ: past the limit a write is short, then fails with EFBIG.
    limit('40:unlimited');
    let error: unknown;
    try {
      store.put('shop', record(4, { command: 'c-4-with-a-longer-id' }));
    } catch (caught) {
      error = caught;
    } finally {
      limit('unlimited:unlimited');
    }
    expect(error).toMatchObject({ code: 'EFBIG' });
    expect(new FenceStore(dir).get('shop')).toEqual(record(3));
    expect(readdirSync(dir)).toEqual(['shop.json']);
  });

  it('survives a new instance (it is on disk, not in memory)', () => {
    new FenceStore(dir).put('shop', record(7, { attempt: 2, done: false }));
    expect(new FenceStore(dir).get('shop')).toEqual(record(7, { attempt: 2, done: false }));
    expect(readdirSync(dir)).toEqual(['shop.json']);
  });

  it('keeps a deleted site as a tombstone: old commands stay stale, a new incarnation starts over', () => {
    const store = new FenceStore(dir);
    store.put('shop', record(5, { deleted: true }));
    expect(store.verdict('shop', 'abc12345', 4)).toBe('stale');
    expect(store.verdict('shop', 'abc12345', 6)).toBe('apply');
    expect(store.verdict('shop', 'zzz99999', 1)).toBe('apply');
    expect(store.sites().size).toBe(0);
  });

  it('keeps the applied configuration of live sites for a restart, not of deleted ones', () => {
    const store = new FenceStore(dir);
    const config = { name: 'shop', id: 'abc12345', environment: 'production', domains: ['shop.example.test'], keepReleases: 5 };
    store.put('shop', record(1));
    store.saveAppliedConfig('shop', config);
    expect(new FenceStore(dir).appliedConfigs().get('shop')).toMatchObject(config);
    store.put('shop', record(2, { deleted: true }));
    expect(store.appliedConfigs().size).toBe(0);
    store.dropAppliedConfig('shop');
    expect(readdirSync(dir).sort()).toEqual(['shop.json']);
  });

  it('refuses a command for another incarnation while the site exists', () => {
    const store = new FenceStore(dir);
    store.put('shop', record(2));
    expect(store.verdict('shop', 'zzz99999', 9)).toBe('stale');
  });

  it.each(['../etc/passwd', 'Shop', '', 'a'.repeat(64), 'x/y'])('refuses the site name %j', (name) => {
    expect(() => new FenceStore(dir).get(name)).toThrow(/invalid site name/);
  });
});
