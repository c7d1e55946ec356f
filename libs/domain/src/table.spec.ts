import { describe, expect, it } from 'vitest';
import { KINDS, type KindName } from './kinds.js';
import { type ObjectMeta, type Resource } from './resource.js';
import { buildTable, tableCells, tableColumnDefinitions, toWireObject } from './table.js';

const now = new Date('2026-06-01T12:00:00Z');

const meta = (name: string, created = '2026-06-01T11:55:00Z'): ObjectMeta => ({
  name,
  uid: '0b4c3f7e-9a1d-4c1e-8f00-0123456789ab',
  generation: 1,
  resourceVersion: '7',
  labels: {},
  annotations: {},
  finalizers: [],
  creationTimestamp: created,
});

const resource = (kind: KindName, spec: unknown, status: unknown, name = 'x'): Resource => ({
  apiVersion: 'pressluft.io/v1',
  kind,
  metadata: meta(name),
  spec,
  status,
});

const ready = (status: string) => [{ type: 'Ready', status, reason: 'R', message: '', lastTransitionTime: '2026-06-01T11:00:00Z' }];

describe('tableColumnDefinitions', () => {
  it.each([
    ['Site', ['NAME', 'PHASE', 'NODE', 'DOMAINS', 'READY', 'AGE', 'ENVIRONMENT', 'RELEASE']],
    ['Node', ['NAME', 'PHASE', 'LOAD', 'SITES', 'AGE', 'PROVIDER', 'AGENT']],
    ['Event', ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE', 'COUNT', 'NAME']],
    ['Command', ['NAME', 'SITE', 'NODE', 'OPERATION', 'STATE', 'FENCE', 'AGE']],
    ['Backup', ['NAME', 'SITE', 'REASON', 'PHASE', 'SIZE', 'AGE', 'STORE', 'RELEASE']],
    ['BackupStore', ['NAME', 'REPOSITORY', 'CREDENTIALS', 'AGE']],
    ['Restore', ['NAME', 'SITE', 'BACKUP', 'PHASE', 'AGE']],
  ] as const)('%s has columns %j', (kind, names) => {
    expect(tableColumnDefinitions(kind).map((c) => c.name)).toEqual(names);
  });

  it.each(KINDS.map((k) => k.kind))('%s: contract columns first at priority 0, NAME formatted as a name', (kind) => {
    const columns = tableColumnDefinitions(kind);
    const firstWide = columns.findIndex((c) => c.priority === 1);
    expect(columns.slice(0, firstWide === -1 ? undefined : firstWide).every((c) => c.priority === 0)).toBe(true);
    for (const c of columns) {
      expect(c.format).toBe(c.name === 'NAME' ? 'name' : '');
      expect(['string', 'integer', 'number', 'date']).toContain(c.type);
      expect(c.description.length).toBeGreaterThan(5);
    }
  });

  it('keeps the site columns of the contract at priority 0', () => {
    expect(tableColumnDefinitions('Site').filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['NAME', 'PHASE', 'NODE', 'DOMAINS', 'READY', 'AGE']);
    expect(tableColumnDefinitions('Node').filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['NAME', 'PHASE', 'LOAD', 'SITES', 'AGE']);
  });
});

describe('tableCells', () => {
  it.each([
    [
      'an active site',
      resource('Site', { domains: ['a.test', 'b.test'], environment: 'production', nodeName: 'spec-node' }, { phase: 'ACTIVE', nodeName: 'local', conditions: ready('True'), currentRelease: '20260601T110000' }, 'shop'),
      ['shop', 'ACTIVE', 'local', 'a.test,b.test', 'True', '5m', 'production', '20260601T110000'],
    ],
    [
      'a pending site falls back to spec.nodeName and Unknown readiness',
      resource('Site', { domains: ['a.test'], environment: 'staging', nodeName: 'n1' }, { phase: 'PENDING', conditions: [] }, 'new'),
      ['new', 'PENDING', 'n1', 'a.test', 'Unknown', '5m', 'staging', '<none>'],
    ],
    [
      'a site with no status at all',
      resource('Site', { domains: [] }, undefined, 'bare'),
      ['bare', '<none>', '<none>', '<none>', 'Unknown', '5m', '<none>', '<none>'],
    ],
    ['a not-ready site', resource('Site', { domains: ['a.test'] }, { phase: 'FAILED', conditions: ready('False') }), ['x', 'FAILED', '<none>', 'a.test', 'False', '5m', '<none>', '<none>']],
    [
      'a node with load and a site count',
      resource('Node', { provider: 'local' }, { phase: 'READY', load: 0.25, sites: 3, agentVersion: '1.0.0' }, 'local'),
      ['local', 'READY', 0.25, 3, '5m', 'local', '1.0.0'],
    ],
    ['a node without status', resource('Node', { provider: 'hetzner' }, {}, 'n2'), ['n2', '<none>', '<none>', 0, '5m', 'hetzner', '<none>']],
    [
      'an event',
      resource('Event', { type: 'Warning', reason: 'DriftDetected', message: 'vhost changed', involvedObject: { kind: 'Site', name: 'shop' }, count: 3, firstTimestamp: '2026-06-01T10:00:00Z', lastTimestamp: '2026-06-01T11:59:30Z' }, {}, 'shop.1'),
      ['30s', 'Warning', 'DriftDetected', 'site/shop', 'vhost changed', 3, 'shop.1'],
    ],
    [
      'a command',
      resource('Command', { site: 'shop', node: 'local', fence: 4, operation: 'DeploySite' }, { state: 'RUNNING', log: [] }, 'shop-4'),
      ['shop-4', 'shop', 'local', 'DeploySite', 'RUNNING', 4, '5m'],
    ],
    ['a backup', resource('Backup', { site: 'shop', reason: 'manual' }, { phase: 'SUCCEEDED', bytesAdded: 1536, store: 'default' }, 'b1'), ['b1', 'shop', 'manual', 'SUCCEEDED', '1.5Ki', '5m', 'default', '<none>']],
    ['a backup store', resource('BackupStore', { repository: '/srv/backups' }, { credentials: { set: true } }, 'default'), ['default', '/srv/backups', 'set', '5m']],
    ['a restore', resource('Restore', { site: 'shop', backup: 'b1' }, null, 'r1'), ['r1', 'shop', 'b1', '<none>', '5m']],
  ])('%s', (_label, r, cells) => {
    expect(tableCells(r, now)).toEqual(cells);
  });

  it.each(KINDS.map((k) => k.kind))('%s: one cell per column', (kind) => {
    expect(tableCells(resource(kind, {}, {}), now)).toHaveLength(tableColumnDefinitions(kind).length);
  });

  it.each([
    ['2026-06-01T11:59:55Z', '5s'],
    ['2026-06-01T09:00:00Z', '3h'],
    ['2026-05-28T12:00:00Z', '4d'],
  ])('renders AGE from creationTimestamp %s as %s', (created, age) => {
    const r: Resource = { ...resource('Restore', { site: 's' }, {}), metadata: meta('b', created) };
    expect(tableCells(r, now).at(-1)).toBe(age);
  });
});

describe('buildTable', () => {
  it('builds a meta.k8s.io/v1 Table with rows carrying PartialObjectMetadata', () => {
    const r = resource('Site', { domains: ['a.test'] }, { phase: 'ACTIVE', conditions: ready('True') }, 'shop');
    const table = buildTable('Site', [r], now, { resourceVersion: '9' });
    expect(table).toEqual({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: '9' },
      columnDefinitions: tableColumnDefinitions('Site'),
      rows: [{ cells: tableCells(r, now), object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: r.metadata } }],
    });
  });

  it.each([
    ['None', undefined],
    ['Object', 'full'],
  ] as const)('with includeObject=%s carries %s objects', (include, carried) => {
    const r = resource('Site', { domains: ['a.test'] }, { phase: 'ACTIVE' }, 'shop');
    const [row] = (buildTable('Site', [r], now, {}, include) as { rows: Array<{ object?: unknown }> }).rows;
    expect(row?.object).toEqual(carried === 'full' ? { ...r } : undefined);
  });

  it('serves events flat, with the body at the top level', () => {
    const event = resource('Event', { type: 'Normal', reason: 'Created', message: 'm', count: 2 }, {}, 'shop.1');
    expect(toWireObject(event)).toEqual({ apiVersion: event.apiVersion, kind: 'Event', metadata: event.metadata, type: 'Normal', reason: 'Created', message: 'm', count: 2 });
  });

  it('builds an empty table for an empty list', () => {
    expect(buildTable('Node', [], now)).toMatchObject({ rows: [], metadata: {} });
  });
});
