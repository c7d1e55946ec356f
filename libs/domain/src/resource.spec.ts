import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Condition } from './conditions.js';
import { KIND_NAMES } from './kinds.js';
import { validateManifest, validateStatus, type ManifestResult } from './manifest.js';
import { isKind, objectMetaSchema, SPEC_SCHEMAS, STATUS_SCHEMAS, type ObjectMeta, type Resource, type ResourceOf } from './resource.js';
import { type SiteSpec, type SiteStatus } from './site.js';

describe('schema registries', () => {
  it.each(KIND_NAMES)('%s has a spec and a status schema', (kind) => {
    expect(SPEC_SCHEMAS[kind]).toBeDefined();
    expect(STATUS_SCHEMAS[kind]).toBeDefined();
  });

  it('types follow the schemas', () => {
    expectTypeOf<SiteStatus['conditions'][number]>().toExtend<Condition>();
    expectTypeOf<Condition>().toExtend<SiteStatus['conditions'][number]>();
    expectTypeOf<ResourceOf<'Site'>['spec']>().toEqualTypeOf<SiteSpec>();
    expectTypeOf(validateManifest('Site', {}, 'Strict')).toEqualTypeOf<ManifestResult<SiteSpec>>();
    const result = validateStatus('Site', { phase: 'ACTIVE' });
    expect(result.ok && result.value.phase).toBe('ACTIVE');
  });
});

describe('isKind', () => {
  const metadata: ObjectMeta = { name: 'a', uid: '', generation: 1, resourceVersion: '1', labels: {}, annotations: {}, finalizers: [], creationTimestamp: '' };
  const object = (kind: Resource['kind']): Resource => ({ apiVersion: 'pressluft.io/v1', kind, metadata, spec: {}, status: {} });

  it.each([
    ['Site', 'Site', true],
    ['Site', 'Node', false],
    ['Command', 'Command', true],
    ['Event', 'Command', false],
  ] as const)('a %s is a %s: %s', (kind, asked, expected) => {
    expect(isKind(object(kind), asked)).toBe(expected);
  });

  it('narrows to the kind type', () => {
    const site = object('Site');
    if (isKind(site, 'Site')) expectTypeOf(site.spec).toEqualTypeOf<SiteSpec>();
  });
});

describe('objectMetaSchema', () => {
  const meta: ObjectMeta = {
    name: 'shop',
    uid: '0b4c3f7e-9a1d-4c1e-8f00-0123456789ab',
    generation: 1,
    resourceVersion: '12',
    labels: {},
    annotations: {},
    finalizers: ['pressluft.io/site-cleanup'],
    creationTimestamp: '2026-01-01T00:00:00Z',
  };

  it('accepts server metadata', () => {
    expect(objectMetaSchema.parse(meta)).toEqual(meta);
  });

  it.each([
    ['uid', 'not-a-uuid'],
    ['generation', 0],
    ['resourceVersion', 'abc'],
    ['creationTimestamp', 'yesterday'],
    ['deletionTimestamp', '2026-01-01'],
  ])('refuses %s=%j', (key, value) => {
    expect(objectMetaSchema.safeParse({ ...meta, [key]: value }).success).toBe(false);
  });
});
