import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FenceStore, type FenceRecord } from './fence-store.js';

const record = (fence: number, extra: Partial<FenceRecord> = {}): FenceRecord => ({ fence, command: `c-${fence}`, attempt: 1, done: true, siteId: 'abc12345', deleted: false, ...extra });

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
