import type { Resource } from '@pressluft/domain';
import { describe, expect, it } from 'vitest';
import { ObjectCache } from './resource.store.js';

const site = (name: string, resourceVersion: string, title = 't'): Resource => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Site',
  metadata: { name, uid: 'u', generation: 1, resourceVersion, labels: {}, annotations: {}, finalizers: [], creationTimestamp: '2026-01-01T00:00:00.000Z' },
  spec: { title },
  status: {},
});

describe('ObjectCache (the optimistic write path hint)', () => {
  it('keeps the newest version: a late reader with an older one does not replace it', () => {
    const cache = new ObjectCache();
    cache.remember(site('a', '10', 'new'));
    cache.remember(site('a', '9', 'old'));
    expect(cache.get('Site', 'a')?.spec).toEqual({ title: 'new' });
    cache.remember(site('a', '11', 'newer'));
    expect(cache.get('Site', 'a')?.metadata.resourceVersion).toBe('11');
  });

  it('compares versions as numbers, not strings', () => {
    const cache = new ObjectCache();
    cache.remember(site('a', '9'));
    cache.remember(site('a', '10'));
    expect(cache.get('Site', 'a')?.metadata.resourceVersion).toBe('10');
  });

  it('holds a frozen copy: neither the writer nor a reader can change what it holds', () => {
    const cache = new ObjectCache();
    const object = site('a', '1', 'before');
    cache.remember(object);
    (object.spec as { title: string }).title = 'changed by the writer';
    const cached = cache.get('Site', 'a');
    expect(cached?.spec).toEqual({ title: 'before' });
    expect(() => {
      (cached?.spec as { title: string }).title = 'changed by a reader';
    }).toThrow(TypeError);
  });

  it('forgets on request and evicts the least recently remembered beyond its capacity', () => {
    const cache = new ObjectCache(2);
    cache.remember(site('a', '1'));
    cache.remember(site('b', '2'));
    cache.remember(site('a', '3'));
    cache.remember(site('c', '4'));
    expect(cache.get('Site', 'b')).toBeUndefined();
    expect(cache.get('Site', 'a')?.metadata.resourceVersion).toBe('3');
    expect(cache.size).toBe(2);
    cache.forget('Site', 'a');
    expect(cache.get('Site', 'a')).toBeUndefined();
    expect(cache.get('Node', 'c')).toBeUndefined();
  });
});

describe('ObjectCache kinds', () => {
  it('holds only what users write through the API, not Events or Commands', () => {
    const cache = new ObjectCache();
    cache.remember({ ...site('e', '1'), kind: 'Event' });
    cache.remember({ ...site('c', '2'), kind: 'Command' });
    cache.remember({ ...site('n', '3'), kind: 'Node' });
    expect(cache.size).toBe(1);
    expect(cache.get('Node', 'n')?.metadata.resourceVersion).toBe('3');
  });
});
