import { describe, expect, it } from 'vitest';
import { cloneJson, type JsonObject } from './json.js';
import { type KindName } from './kinds.js';
import { validateManifest, validateStatus, type ManifestResult, type UnknownFieldPolicy } from './manifest.js';

const site = (): JsonObject => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Site',
  metadata: { name: 'shop', labels: { team: 'web' }, finalizers: ['pressluft.io/site-cleanup'] },
  spec: {
    environment: 'production',
    domains: ['shop.example.test'],
    nodeName: 'local',
    wordpress: { version: '6.1', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'de_DE' },
    code: { git: { url: 'https://git.example.test/shop.git', ref: 'main' } },
    php: { version: '8.2', memoryLimit: '256M', maxChildren: 5, uploadMaxSize: '64M' },
    resources: { cpu: '50%', memory: '512Mi' },
    backup: { schedule: '0 3 * * *', retention: { daily: 7, weekly: 4 } },
    drift: { policy: 'Observe' },
    releases: { keep: 5 },
    source: { clone: { site: 'template' } },
  },
});

const node = (): JsonObject => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Node',
  metadata: { name: 'fsn-1' },
  spec: {
    provider: 'hetzner',
    labels: { 'topology.pressluft.io/zone': 'fsn1' },
    hetzner: { serverType: 'cx22', location: 'fsn1', image: 'ubuntu-24.04' },
  },
});

const backup = (): JsonObject => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Backup',
  metadata: { name: 'nightly-1' },
  spec: { site: 'shop', note: 'Before the big sale' },
});

const restore = (): JsonObject => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Restore',
  metadata: { name: 'undo-1' },
  spec: { site: 'shop', backup: 'nightly-1' },
});

const event = (): JsonObject => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Event',
  metadata: { name: 'shop-1' },
  spec: {
    type: 'Warning',
    reason: 'DriftDetected',
    message: 'nginx vhost differs; $(not) a "shell" <thing>',
    involvedObject: { kind: 'Site', name: 'shop', uid: '0b4c3f7e-9a1d-4c1e-8f00-0123456789ab' },
    count: 2,
    firstTimestamp: '2026-01-01T00:00:00Z',
    lastTimestamp: '2026-01-01T00:05:00.123Z',
  },
});

const command = (): JsonObject => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'Command',
  metadata: { name: 'shop-7' },
  spec: { site: 'shop', node: 'local', fence: 7, operation: 'DeploySite', generation: 2 },
});

const backupStore = (): JsonObject => ({
  apiVersion: 'pressluft.io/v1',
  kind: 'BackupStore',
  metadata: { name: 'offsite' },
  spec: { repository: 'sftp:u123@u123.your-storagebox.de:/pressluft', credentials: { password: 'correct horse battery staple' } },
});

const contentSync = (): JsonObject => ({ apiVersion: 'pressluft.io/v1', kind: 'ContentSync', metadata: { name: 'shop-down' }, spec: { from: 'shop', to: 'shop-staging' } });
const promotion = (): JsonObject => ({ apiVersion: 'pressluft.io/v1', kind: 'Promotion', metadata: { name: 'shop-up' }, spec: { from: 'shop-staging', to: 'shop' } });

const MANIFESTS: Record<KindName, () => JsonObject> = { Site: site, Node: node, BackupStore: backupStore, Backup: backup, Restore: restore, ContentSync: contentSync, Promotion: promotion, Event: event, Command: command };

/** Sets a value at a path like ['spec', 'domains', 0], creating objects on the way; undefined deletes. */
function at(body: JsonObject, path: readonly (string | number)[], value: unknown): JsonObject {
  const copy = cloneJson(body);
  let node: Record<string | number, unknown> = copy;
  for (const segment of path.slice(0, -1)) {
    node[segment] ??= {};
    node = node[segment] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function errorsOf(result: ManifestResult): { reason: string; fields: string[] } {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  return { reason: result.reason, fields: result.errors.map((e) => e.field) };
}

describe('validateManifest: valid manifests', () => {
  it.each(Object.keys(MANIFESTS) as KindName[])('accepts the example %s', (kind) => {
    const result = validateManifest(kind, MANIFESTS[kind](), 'Strict');
    expect(result).toMatchObject({ ok: true, warnings: [] });
  });

  it('applies every default to a minimal site', () => {
    const result = validateManifest(
      'Site',
      {
        apiVersion: 'pressluft.io/v1',
        kind: 'Site',
        metadata: { name: 'shop' },
        spec: { domains: ['shop.example.test'], wordpress: { version: '6.1', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' } },
      },
      'Strict',
    );
    expect(result).toEqual({
      ok: true,
      warnings: [],
      value: {
        name: 'shop',
        labels: {},
        annotations: {},
        finalizers: undefined,
        resourceVersion: undefined,
        spec: {
          environment: 'production',
          domains: ['shop.example.test'],
          wordpress: { version: '6.1', title: 'Shop', adminUser: 'admin', adminEmail: 'ops@example.test' },
          php: { memoryLimit: '256M', maxChildren: 5 },
          resources: { cpu: '100%', memory: '512Mi' },
          drift: { policy: 'Observe' },
          releases: { keep: 5 },
        },
      },
    });
  });

  it('fills backup retention defaults inside a given backup policy', () => {
    const result = validateManifest('Site', at(site(), ['spec', 'backup'], { schedule: '@daily' }), 'Strict');
    expect(result.ok && result.value.spec.backup).toEqual({ schedule: '@daily', retention: { daily: 7, weekly: 4, monthly: 0 }, preDeleteKeepDays: 30, skipPreDeleteBackup: false });
  });

  it('defaults node labels and unschedulable', () => {
    const result = validateManifest('Node', { apiVersion: 'pressluft.io/v1', kind: 'Node', metadata: { name: 'local' }, spec: { provider: 'local' } }, 'Strict');
    expect(result.ok && result.value.spec).toEqual({ provider: 'local', labels: {}, unschedulable: false });
  });

  it('keeps metadata the client may write', () => {
    const body = at(at(site(), ['metadata', 'annotations'], { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":1}\n', note: 'anything; goes | here' }), ['metadata', 'finalizers'], ['pressluft.io/site-cleanup']);
    const result = validateManifest('Site', at(body, ['metadata', 'resourceVersion'], '42'), 'Strict');
    expect(result.ok && result.value).toMatchObject({
      name: 'shop',
      labels: { team: 'web' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":1}\n', note: 'anything; goes | here' },
      finalizers: ['pressluft.io/site-cleanup'],
      resourceVersion: '42',
    });
  });

  it.each([
    ['generation', 3],
    ['creationTimestamp', '2026-01-01T00:00:00Z'],
    ['creationTimestamp', null],
    ['deletionTimestamp', '2026-01-01T00:00:00Z'],
    ['deletionGracePeriodSeconds', 0],
    ['managedFields', [{ manager: 'kubectl' }]],
    ['selfLink', '/apis/pressluft.io/v1/sites/shop'],
    ['namespace', ''],
  ])('ignores server-set metadata.%s under Strict', (key, value) => {
    const result = validateManifest('Site', at(site(), ['metadata', key], value), 'Strict');
    expect(result.ok).toBe(true);
    expect(result.ok && Object.keys(result.value)).not.toContain(key);
  });

  it.each([
    ['0b4c3f7e-9a1d-4c1e-8f00-0123456789ab', '0b4c3f7e-9a1d-4c1e-8f00-0123456789ab'],
    ['', undefined],
    [null, undefined],
  ])('keeps metadata.uid %j as a precondition (%j)', (uid, expected) => {
    const result = validateManifest('Site', at(site(), ['metadata', 'uid'], uid), 'Strict');
    expect(result.ok && result.value.uid).toBe(expected);
  });

  it('refuses a metadata.uid that is no UID', () => {
    expect(validateManifest('Site', at(site(), ['metadata', 'uid'], '../etc'), 'Strict')).toMatchObject({ ok: false, reason: 'Invalid', errors: [{ field: 'metadata.uid' }] });
  });

  it('ignores status in the body (users never write status)', () => {
    const result = validateManifest('Site', at(site(), ['status'], { phase: 'ACTIVE', bogus: '$(id)' }), 'Strict');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    expect(result.ok && 'status' in result.value).toBe(false);
  });

  it('treats an empty resourceVersion as absent', () => {
    const result = validateManifest('Site', at(site(), ['metadata', 'resourceVersion'], ''), 'Strict');
    expect(result.ok && result.value.resourceVersion).toBeUndefined();
  });

  it.each([
    [['spec', 'nodeName']],
    [['spec', 'code']],
    [['metadata', 'labels']],
    [['spec', 'php']],
  ])('treats null at %j as not set, like Kubernetes', (path) => {
    const result = validateManifest('Site', at(site(), path, null), 'Strict');
    expect(result.ok).toBe(true);
  });

  it('does not mutate the body', () => {
    const body = at(at(site(), ['spec', 'colour'], 'red'), ['status'], { phase: 'ACTIVE' });
    const before = JSON.stringify(body);
    validateManifest('Site', body, 'Warn');
    validateManifest('Site', body, 'Strict');
    expect(JSON.stringify(body)).toBe(before);
  });

  it.each<UnknownFieldPolicy>(['Strict', 'Warn', 'Ignore'])('refuses "__proto__" keys under %s instead of losing them', (policy) => {
    const body = JSON.parse(
      '{"apiVersion":"pressluft.io/v1","kind":"Backup","metadata":{"name":"b","labels":{"__proto__":"x"}},"spec":{"site":"shop","__proto__":{"polluted":1}}}',
    ) as unknown;
    expect(validateManifest('Backup', body, policy)).toEqual({
      ok: false,
      reason: 'BadRequest',
      errors: [
        { field: 'metadata.labels.__proto__', message: 'is not an allowed key' },
        { field: 'spec.__proto__', message: 'is not an allowed key' },
      ],
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('validateManifest: envelope', () => {
  it.each([null, 'a string', 42, true, [], [site()]])('refuses a body that is not an object: %j', (body) => {
    expect(validateManifest('Site', body, 'Strict')).toEqual({ ok: false, reason: 'BadRequest', errors: [{ field: '', message: 'must be a JSON object' }] });
  });

  it.each([
    ['apiVersion', 'v1', ['apiVersion']],
    ['apiVersion', 'pressluft.io/v2', ['apiVersion']],
    ['apiVersion', undefined, ['apiVersion']],
    ['kind', 'Node', ['kind']],
    ['kind', 'site', ['kind']],
    ['kind', undefined, ['kind']],
  ])('refuses %s=%j as BadRequest', (key, value, fields) => {
    expect(errorsOf(validateManifest('Site', at(site(), [key], value), 'Strict'))).toEqual({ reason: 'BadRequest', fields });
  });

  it('names both apiVersion and kind when both are wrong', () => {
    const result = validateManifest('Site', { apiVersion: 'apps/v1', kind: 'Deployment' }, 'Strict');
    expect(result).toEqual({
      ok: false,
      reason: 'BadRequest',
      errors: [
        { field: 'apiVersion', message: 'must be "pressluft.io/v1"' },
        { field: 'kind', message: 'must be "Site"' },
      ],
    });
  });

  it.each([
    [['metadata'], 'metadata'],
    [['spec'], 'spec'],
    [['metadata', 'name'], 'metadata.name'],
    [['spec', 'domains'], 'spec.domains'],
    [['spec', 'wordpress'], 'spec.wordpress'],
    [['spec', 'wordpress', 'adminEmail'], 'spec.wordpress.adminEmail'],
  ])('reports a missing %j as required', (path, field) => {
    const result = validateManifest('Site', at(site(), path, undefined), 'Strict');
    expect(result).toEqual({ ok: false, reason: 'Invalid', errors: [{ field, message: 'is required' }] });
  });

  it.each([
    ['metadata', 'shop'],
    ['metadata', []],
    ['spec', []],
    ['spec', 'x'],
    ['spec', 42],
  ])('refuses %s of the wrong type: %j', (key, value) => {
    expect(errorsOf(validateManifest('Site', at(site(), [key], value), 'Strict'))).toEqual({ reason: 'Invalid', fields: [key] });
  });

  it('refuses a namespace: the kinds are cluster-scoped', () => {
    expect(validateManifest('Site', at(site(), ['metadata', 'namespace'], 'default'), 'Strict')).toEqual({
      ok: false,
      reason: 'Invalid',
      errors: [{ field: 'metadata.namespace', message: 'must be empty: pressluft.io resources are cluster-scoped' }],
    });
  });
});

describe('validateManifest: unknown fields', () => {
  const unknowns: [string, (string | number)[]][] = [
    ['foo', ['foo']],
    ['metadata.bogus', ['metadata', 'bogus']],
    ['metadata.generateName', ['metadata', 'generateName']],
    ['spec.foo', ['spec', 'foo']],
    ['spec.wordpress.colour', ['spec', 'wordpress', 'colour']],
    ['spec.code.git.branch', ['spec', 'code', 'git', 'branch']],
    ['spec.backup.retention.yearly', ['spec', 'backup', 'retention', 'yearly']],
    ['spec.php.opcache', ['spec', 'php', 'opcache']],
  ];

  it.each(unknowns)('Strict refuses %s as BadRequest naming it', (field, path) => {
    expect(validateManifest('Site', at(site(), path, 'x'), 'Strict')).toEqual({
      ok: false,
      reason: 'BadRequest',
      errors: [{ field, message: 'unknown field' }],
    });
  });

  it.each(unknowns)('Warn drops %s and warns', (field, path) => {
    const result = validateManifest('Site', at(site(), path, { deep: 'x' }), 'Warn');
    expect(result).toMatchObject({ ok: true, warnings: [`unknown field "${field}"`] });
    expect(JSON.stringify(result.ok && result.value)).not.toContain('deep');
  });

  it.each(unknowns)('Ignore drops %s silently', (_field, path) => {
    const result = validateManifest('Site', at(site(), path, 'x'), 'Ignore');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    expect(result).toEqual(validateManifest('Site', site(), 'Strict'));
  });

  it('lists every unknown field under Strict', () => {
    const body = at(at(at(site(), ['spec', 'a'], 1), ['spec', 'wordpress', 'b'], 2), ['metadata', 'c'], 3);
    const result = validateManifest('Site', body, 'Strict');
    expect(errorsOf(result)).toEqual({ reason: 'BadRequest', fields: expect.arrayContaining(['spec.a', 'spec.wordpress.b', 'metadata.c']) as unknown });
    expect(result.ok ? [] : result.errors).toHaveLength(3);
  });

  it('reports unknown fields before invalid ones under Strict (decoding comes first)', () => {
    const body = at(at(site(), ['spec', 'extra'], 1), ['spec', 'domains'], ['NOT A DOMAIN']);
    expect(errorsOf(validateManifest('Site', body, 'Strict'))).toEqual({ reason: 'BadRequest', fields: ['spec.extra'] });
  });

  it.each<UnknownFieldPolicy>(['Warn', 'Ignore'])('%s still reports invalid fields after dropping unknown ones', (policy) => {
    const body = at(at(site(), ['spec', 'extra'], 1), ['spec', 'domains'], ['NOT A DOMAIN']);
    expect(errorsOf(validateManifest('Site', body, policy))).toEqual({ reason: 'Invalid', fields: ['spec.domains[0]'] });
  });

  it('names unusual unknown keys unambiguously', () => {
    expect(errorsOf(validateManifest('Site', at(site(), ['spec', 'a.b/c'], 1), 'Strict')).fields).toEqual(['spec[a.b/c]']);
  });
});

const HOSTILE = ['; rm -rf /', '|cat', '&& id', '$(id)', '`id`', '(x)', '<x>', 'a\\b', '"q"', '../../etc/passwd', 'x\ny', '\tx'];

/** Every user-written string of every kind, with a valid value to mutate. */
const STRING_FIELDS: [KindName, (string | number)[], string][] = [
  ['Site', ['metadata', 'name'], 'shop'],
  ['Site', ['metadata', 'labels', 'team'], 'web'],
  ['Site', ['metadata', 'finalizers', 0], 'pressluft.io/site-cleanup'],
  ['Site', ['metadata', 'resourceVersion'], '42'],
  ['Site', ['spec', 'environment'], 'production'],
  ['Site', ['spec', 'domains', 0], 'shop.example.test'],
  ['Site', ['spec', 'nodeName'], 'local'],
  ['Site', ['spec', 'wordpress', 'version'], '6.1'],
  ['Site', ['spec', 'wordpress', 'title'], 'Shop'],
  ['Site', ['spec', 'wordpress', 'adminUser'], 'admin'],
  ['Site', ['spec', 'wordpress', 'adminEmail'], 'ops@example.test'],
  ['Site', ['spec', 'wordpress', 'locale'], 'de_DE'],
  ['Site', ['spec', 'code', 'git', 'url'], 'https://git.example.test/shop.git'],
  ['Site', ['spec', 'code', 'git', 'ref'], 'main'],
  ['Site', ['spec', 'php', 'version'], '8.2'],
  ['Site', ['spec', 'php', 'memoryLimit'], '256M'],
  ['Site', ['spec', 'php', 'uploadMaxSize'], '64M'],
  ['Site', ['spec', 'resources', 'cpu'], '50%'],
  ['Site', ['spec', 'resources', 'memory'], '512Mi'],
  ['Site', ['spec', 'backup', 'schedule'], '0 3 * * *'],
  ['Site', ['spec', 'drift', 'policy'], 'Observe'],
  ['Site', ['spec', 'source', 'clone', 'site'], 'template'],
  ['Node', ['spec', 'provider'], 'hetzner'],
  ['Node', ['spec', 'labels', 'zone'], 'fsn1'],
  ['Node', ['spec', 'hetzner', 'serverType'], 'cx22'],
  ['Node', ['spec', 'hetzner', 'location'], 'fsn1'],
  ['Node', ['spec', 'hetzner', 'image'], 'ubuntu-24.04'],
  ['Backup', ['spec', 'site'], 'shop'],
  ['Backup', ['spec', 'note'], 'Before the big sale'],
  ['Restore', ['spec', 'site'], 'shop'],
  ['Restore', ['spec', 'backup'], 'nightly-1'],
  ['Event', ['spec', 'type'], 'Warning'],
  ['Event', ['spec', 'reason'], 'DriftDetected'],
  ['Event', ['spec', 'involvedObject', 'kind'], 'Site'],
  ['Event', ['spec', 'involvedObject', 'name'], 'shop'],
  ['Event', ['spec', 'involvedObject', 'uid'], '0b4c3f7e-9a1d-4c1e-8f00-0123456789ab'],
  ['Event', ['spec', 'firstTimestamp'], '2026-01-01T00:00:00Z'],
  ['Command', ['spec', 'site'], 'shop'],
  ['Command', ['spec', 'node'], 'local'],
  ['Command', ['spec', 'operation'], 'DeploySite'],
];

const pathText = (path: readonly (string | number)[]) =>
  path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

describe('validateManifest: hostile strings are refused in every string field', () => {
  const cases = STRING_FIELDS.flatMap(([kind, path, valid]) =>
    HOSTILE.flatMap((bad) => [
      [kind, pathText(path), path, `${valid}${bad}`] as const,
      [kind, pathText(path), path, bad] as const,
    ]),
  );

  it.each(cases)('%s %s = %j', (kind, field, path, value) => {
    const result = validateManifest(kind, at(MANIFESTS[kind](), path, value), 'Strict');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map((e) => e.field)).toContain(field);
    expect(result.ok ? '' : result.reason).toBe('Invalid');
  });

  it.each(STRING_FIELDS)('%s %j accepts its valid example', (kind, path, valid) => {
    expect(validateManifest(kind, at(MANIFESTS[kind](), path, valid), 'Strict').ok).toBe(true);
  });

  it.each(STRING_FIELDS)('%s %j refuses a number where a string belongs', (kind, path) => {
    const result = validateManifest(kind, at(MANIFESTS[kind](), path, 7), 'Strict');
    expect(result.ok ? [] : result.errors).toContainEqual(expect.objectContaining({ field: pathText(path) }));
  });

  it.each(HOSTILE)('refuses the label key %j naming the key', (bad) => {
    const key = `team${bad}`;
    const result = validateManifest('Site', at(site(), ['metadata', 'labels'], { [key]: 'web' }), 'Strict');
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.errors[0]?.field).toMatch(/^metadata\.labels(\.|\[)team/);
  });

  it('does not echo a huge value in messages', () => {
    const huge = 'x'.repeat(100_000);
    const result = validateManifest('Site', at(site(), ['spec', 'wordpress', 'title'], huge), 'Strict');
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result).length).toBeLessThan(2000);
  });
});

describe('validateManifest: site spec rules', () => {
  const ok: [string, (string | number)[], unknown][] = [
    ['staging', ['spec', 'environment'], 'staging'],
    ['50 domains', ['spec', 'domains'], Array.from({ length: 50 }, (_, i) => `d${i}.example.test`)],
    ['3-part version', ['spec', 'wordpress', 'version'], '6.4.2'],
    ['unicode title', ['spec', 'wordpress', 'title'], "Café Müller's Shop: Grüße!"],
    ['100-char title', ['spec', 'wordpress', 'title'], 'T'.repeat(100)],
    ['dotted admin', ['spec', 'wordpress', 'adminUser'], 'site.admin_2'],
    ['plus email', ['spec', 'wordpress', 'adminEmail'], 'ops+wp@mail.example.com'],
    ['2-letter locale', ['spec', 'wordpress', 'locale'], 'en'],
    ['3-letter locale', ['spec', 'wordpress', 'locale'], 'fil_PH'],
    ['xmlrpc on', ['spec', 'wordpress', 'xmlrpc'], true],
    ['xmlrpc off', ['spec', 'wordpress', 'xmlrpc'], false],
    ['a Redis object cache', ['spec', 'cache', 'redis'], true],
    ['no Redis object cache', ['spec', 'cache', 'redis'], false],
    ['https url with port', ['spec', 'code', 'git', 'url'], 'https://git.example.test:8443/org/shop.git'],
    ['ip host url', ['spec', 'code', 'git', 'url'], 'https://127.0.0.1/shop.git'],
    ['tag ref', ['spec', 'code', 'git', 'ref'], 'v1.2.3'],
    ['nested ref', ['spec', 'code', 'git', 'ref'], 'release/2026-01'],
    ['sha ref', ['spec', 'code', 'git', 'ref'], '0123456789abcdef0123456789abcdef01234567'],
    ['32M', ['spec', 'php', 'memoryLimit'], '32M'],
    ['4G', ['spec', 'php', 'memoryLimit'], '4G'],
    ['4096M', ['spec', 'php', 'memoryLimit'], '4096M'],
    ['1 child', ['spec', 'php', 'maxChildren'], 1],
    ['200 children', ['spec', 'php', 'maxChildren'], 200],
    ['1%', ['spec', 'resources', 'cpu'], '1%'],
    ['800%', ['spec', 'resources', 'cpu'], '800%'],
    ['64Mi', ['spec', 'resources', 'memory'], '64Mi'],
    ['64Gi', ['spec', 'resources', 'memory'], '64Gi'],
    ['@weekly', ['spec', 'backup', 'schedule'], '@weekly'],
    ['cron lists', ['spec', 'backup', 'schedule'], '0,30 1-5/2 * 1-12 1-5'],
    ['retention max', ['spec', 'backup', 'retention'], { daily: 365, weekly: 104, monthly: 120 }],
    ['retention zero', ['spec', 'backup', 'retention'], { daily: 0, weekly: 0, monthly: 0 }],
    ['Remediate', ['spec', 'drift', 'policy'], 'Remediate'],
    ['keep 1', ['spec', 'releases', 'keep'], 1],
    ['keep 50', ['spec', 'releases', 'keep'], 50],
  ];

  it.each(ok)('accepts %s', (_label, path, value) => {
    expect(validateManifest('Site', at(site(), path, value), 'Strict')).toMatchObject({ ok: true });
  });

  const bad: [string, (string | number)[], unknown, string][] = [
    ['no domains', ['spec', 'domains'], [], 'spec.domains'],
    ['51 domains', ['spec', 'domains'], Array.from({ length: 51 }, (_, i) => `d${i}.example.test`), 'spec.domains'],
    ['duplicate domain', ['spec', 'domains'], ['a.example.test', 'b.example.test', 'a.example.test'], 'spec.domains[2]'],
    ['upper-case domain', ['spec', 'domains'], ['a.example.test', 'Shop.example.test'], 'spec.domains[1]'],
    ['single-label domain', ['spec', 'domains', 0], 'localhost', 'spec.domains[0]'],
    ['domains not an array', ['spec', 'domains'], 'shop.example.test', 'spec.domains'],
    ['bad environment', ['spec', 'environment'], 'dev', 'spec.environment'],
    ['version 6', ['spec', 'wordpress', 'version'], '6', 'spec.wordpress.version'],
    ['version latest', ['spec', 'wordpress', 'version'], 'latest', 'spec.wordpress.version'],
    ['empty title', ['spec', 'wordpress', 'title'], '', 'spec.wordpress.title'],
    ['101-char title', ['spec', 'wordpress', 'title'], 'T'.repeat(101), 'spec.wordpress.title'],
    ['title with slash', ['spec', 'wordpress', 'title'], 'A/B', 'spec.wordpress.title'],
    ['short admin', ['spec', 'wordpress', 'adminUser'], 'ab', 'spec.wordpress.adminUser'],
    ['upper admin', ['spec', 'wordpress', 'adminUser'], 'Admin', 'spec.wordpress.adminUser'],
    ['email without at', ['spec', 'wordpress', 'adminEmail'], 'ops.example.test', 'spec.wordpress.adminEmail'],
    ['email double dot', ['spec', 'wordpress', 'adminEmail'], 'a..b@example.test', 'spec.wordpress.adminEmail'],
    ['email no tld', ['spec', 'wordpress', 'adminEmail'], 'ops@localhost', 'spec.wordpress.adminEmail'],
    ['locale lower country', ['spec', 'wordpress', 'locale'], 'de_de', 'spec.wordpress.locale'],
    ['xmlrpc as a string', ['spec', 'wordpress', 'xmlrpc'], 'true', 'spec.wordpress.xmlrpc'],
    ['redis as a string', ['spec', 'cache', 'redis'], 'yes', 'spec.cache.redis'],
    ['http url', ['spec', 'code', 'git', 'url'], 'http://git.example.test/shop.git', 'spec.code.git.url'],
    ['ssh url without pinned host keys', ['spec', 'code', 'git'], { url: 'ssh://git@git.example.test:2222/org/shop.git', ref: 'main' }, 'spec.code.git.knownHosts'],
    ['scp-like url without pinned host keys', ['spec', 'code', 'git'], { url: 'git@github.com:org/shop.git', ref: 'main' }, 'spec.code.git.knownHosts'],
    ['known hosts with an https url', ['spec', 'code', 'git', 'knownHosts'], 'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', 'spec.code.git.knownHosts'],
    ['file url where local repositories are off', ['spec', 'code', 'git', 'url'], 'file:///srv/git/shop.git', 'spec.code.git.url'],
    ['url with credentials', ['spec', 'code', 'git', 'url'], 'https://user:pw@git.example.test/shop.git', 'spec.code.git.url'],
    ['url with ..', ['spec', 'code', 'git', 'url'], 'https://git.example.test/org/../shop.git', 'spec.code.git.url'],
    ['file url with ..', ['spec', 'code', 'git', 'url'], 'file:///srv/../etc/shadow', 'spec.code.git.url'],
    ['scp url with ..', ['spec', 'code', 'git', 'url'], 'git@host:../shop.git', 'spec.code.git.url'],
    ['relative file url', ['spec', 'code', 'git', 'url'], 'file://srv/shop.git', 'spec.code.git.url'],
    ['ext transport', ['spec', 'code', 'git', 'url'], 'ext::sh -c id', 'spec.code.git.url'],
    ['option as url', ['spec', 'code', 'git', 'url'], '--upload-pack=id', 'spec.code.git.url'],
    ['url query', ['spec', 'code', 'git', 'url'], 'https://git.example.test/shop.git?x=1', 'spec.code.git.url'],
    ['ref with ..', ['spec', 'code', 'git', 'ref'], 'main..dev', 'spec.code.git.ref'],
    ['ref option', ['spec', 'code', 'git', 'ref'], '-main', 'spec.code.git.ref'],
    ['ref .lock', ['spec', 'code', 'git', 'ref'], 'main.lock', 'spec.code.git.ref'],
    ['ref trailing slash', ['spec', 'code', 'git', 'ref'], 'main/', 'spec.code.git.ref'],
    ['ref double slash', ['spec', 'code', 'git', 'ref'], 'a//b', 'spec.code.git.ref'],
    ['ref hidden part', ['spec', 'code', 'git', 'ref'], 'a/.b', 'spec.code.git.ref'],
    ['ref too long', ['spec', 'code', 'git', 'ref'], 'r'.repeat(201), 'spec.code.git.ref'],
    ['ref reflog syntax', ['spec', 'code', 'git', 'ref'], 'main@{1}', 'spec.code.git.ref'],
    ['ref missing', ['spec', 'code', 'git'], { url: 'https://git.example.test/shop.git' }, 'spec.code.git.ref'],
    ['php 7.4', ['spec', 'php', 'version'], '7.4', 'spec.php.version'],
    ['31M', ['spec', 'php', 'memoryLimit'], '31M', 'spec.php.memoryLimit'],
    ['5G', ['spec', 'php', 'memoryLimit'], '5G', 'spec.php.memoryLimit'],
    ['256MB', ['spec', 'php', 'memoryLimit'], '256MB', 'spec.php.memoryLimit'],
    ['-1 memory', ['spec', 'php', 'memoryLimit'], '-1', 'spec.php.memoryLimit'],
    ['0 children', ['spec', 'php', 'maxChildren'], 0, 'spec.php.maxChildren'],
    ['201 children', ['spec', 'php', 'maxChildren'], 201, 'spec.php.maxChildren'],
    ['1.5 children', ['spec', 'php', 'maxChildren'], 1.5, 'spec.php.maxChildren'],
    ['string children', ['spec', 'php', 'maxChildren'], '5', 'spec.php.maxChildren'],
    ['upload 5G', ['spec', 'php', 'uploadMaxSize'], '5G', 'spec.php.uploadMaxSize'],
    ['0%', ['spec', 'resources', 'cpu'], '0%', 'spec.resources.cpu'],
    ['801%', ['spec', 'resources', 'cpu'], '801%', 'spec.resources.cpu'],
    ['cores', ['spec', 'resources', 'cpu'], '2', 'spec.resources.cpu'],
    ['63Mi', ['spec', 'resources', 'memory'], '63Mi', 'spec.resources.memory'],
    ['65Gi', ['spec', 'resources', 'memory'], '65Gi', 'spec.resources.memory'],
    ['512M', ['spec', 'resources', 'memory'], '512M', 'spec.resources.memory'],
    ['selector label with a space', ['spec', 'placement', 'nodeSelector'], { 'my tier': 'web' }, 'spec.placement.nodeSelector[my tier]'],
    ['selector value too long', ['spec', 'placement', 'nodeSelector', 'tier'], 'w'.repeat(64), 'spec.placement.nodeSelector.tier'],
    ['selector value not a string', ['spec', 'placement', 'nodeSelector', 'tier'], 1, 'spec.placement.nodeSelector.tier'],
    ['17 selector labels', ['spec', 'placement', 'nodeSelector'], Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, 'v'])), 'spec.placement.nodeSelector'],
    ['4-field cron', ['spec', 'backup', 'schedule'], '0 3 * *', 'spec.backup.schedule'],
    ['minute 60', ['spec', 'backup', 'schedule'], '60 3 * * *', 'spec.backup.schedule'],
    ['hour 24', ['spec', 'backup', 'schedule'], '0 24 * * *', 'spec.backup.schedule'],
    ['@reboot', ['spec', 'backup', 'schedule'], '@reboot', 'spec.backup.schedule'],
    ['daily 366', ['spec', 'backup', 'retention', 'daily'], 366, 'spec.backup.retention.daily'],
    ['weekly 105', ['spec', 'backup', 'retention', 'weekly'], 105, 'spec.backup.retention.weekly'],
    ['monthly 121', ['spec', 'backup', 'retention', 'monthly'], 121, 'spec.backup.retention.monthly'],
    ['daily -1', ['spec', 'backup', 'retention', 'daily'], -1, 'spec.backup.retention.daily'],
    ['drift policy case', ['spec', 'drift', 'policy'], 'observe', 'spec.drift.policy'],
    ['keep 0', ['spec', 'releases', 'keep'], 0, 'spec.releases.keep'],
    ['keep 51', ['spec', 'releases', 'keep'], 51, 'spec.releases.keep'],
    ['clone from itself', ['spec', 'source', 'clone', 'site'], 'shop', 'spec.source.clone.site'],
    ['wordpress not object', ['spec', 'wordpress'], 'x', 'spec.wordpress'],
    ['php array', ['spec', 'php'], [], 'spec.php'],
  ];

  it.each(bad)('refuses %s naming %j', (_label, path, value, field) => {
    const result = validateManifest('Site', at(site(), path, value), 'Strict');
    expect(errorsOf(result)).toEqual({ reason: 'Invalid', fields: [field] });
  });

  it('accepts a local repository only where the installation allows them', () => {
    const body = at(site(), ['spec', 'code', 'git'], { url: 'file:///srv/git/shop.git', ref: 'main' });
    expect(validateManifest('Site', body, 'Strict', { allowLocal: true })).toMatchObject({ ok: true });
    expect(errorsOf(validateManifest('Site', body, 'Strict', { allowLocal: false }))).toEqual({ reason: 'Invalid', fields: ['spec.code.git.url'] });
  });

  it('reports every problem at once', () => {
    const body = at(at(at(site(), ['spec', 'domains', 0], 'X'), ['spec', 'php', 'maxChildren'], 0), ['metadata', 'name'], 'Shop');
    expect(errorsOf(validateManifest('Site', body, 'Strict')).fields.sort()).toEqual(['metadata.name', 'spec.domains[0]', 'spec.php.maxChildren']);
  });
});

describe('validateManifest: messages', () => {
  it.each([
    [['spec', 'php', 'maxChildren'], 0, 'must be >= 1'],
    [['spec', 'php', 'maxChildren'], 1.5, 'must be an integer'],
    [['spec', 'php', 'maxChildren'], 'five', 'must be a number'],
    [['spec', 'domains'], [], 'must have at least 1 item'],
    [['spec', 'environment'], 'dev', 'must be one of: "production", "staging"'],
    [['spec', 'wordpress'], [], 'must be an object'],
    [['spec', 'domains', 0], 'X', 'must be a lower-case RFC 1123 hostname such as shop.example.test'],
    [['spec', 'resources', 'memory'], '65Gi', 'must be between 64Mi and 64Gi'],
    [['spec', 'placement', 'nodeSelector'], Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, 'v'])), 'must have at most 16 labels'],
    [['spec', 'php', 'memoryLimit'], '8G', 'must be between 32M and 4G'],
    [['spec', 'backup', 'schedule'], '0 25 * * *', 'hour field: values must be from 0 to 23'],
    [['spec', 'domains', 1], 'shop.example.test', 'duplicate domain'],
    [['spec', 'wordpress', 'title'], '', "must start with a letter or digit and contain only letters, digits, spaces and . , : ! ? ' -"],
    [['spec', 'wordpress', 'title'], 'T'.repeat(101), 'must be at most 100 characters'],
    [['spec', 'code', 'git', 'ref'], '', "must be a branch, tag or commit: 1-200 characters of letters, digits, '.', '_', '/' and '-', no '..', not starting with '-'"],
  ])('%j = %j says %j', (path, value, message) => {
    const result = validateManifest('Site', at(site(), path, value), 'Strict');
    expect(result.ok ? [] : result.errors.map((e) => e.message)).toContain(message);
  });
});

describe('validateManifest: metadata rules', () => {
  it.each([
    [{ team: 'web' }],
    [{ 'app.kubernetes.io/name': 'shop' }],
    [{ tier: '' }],
    [{ a: 'A_b-c.9' }],
    [{ ['k'.repeat(63)]: 'v'.repeat(63) }],
    [{ [`${'p'.repeat(200)}.io/name`]: 'x' }],
  ])('accepts labels %j', (labels) => {
    expect(validateManifest('Site', at(site(), ['metadata', 'labels'], labels), 'Strict').ok).toBe(true);
  });

  it.each([
    [{ '': 'x' }, 'metadata.labels[]'],
    [{ ['k'.repeat(64)]: 'v' }, `metadata.labels.${'k'.repeat(64)}`],
    [{ ['k'.repeat(65)]: 'v' }, `metadata.labels[${'k'.repeat(64)}...]`],
    [{ team: 'v'.repeat(64) }, 'metadata.labels.team'],
    [{ team: '-web' }, 'metadata.labels.team'],
    [{ team: 'web team' }, 'metadata.labels.team'],
    [{ 'Example.com/x': 'y' }, 'metadata.labels[Example.com/x]'],
    [{ '/x': 'y' }, 'metadata.labels[/x]'],
    [{ 'a/b/c': 'y' }, 'metadata.labels[a/b/c]'],
    [{ [`${'p'.repeat(254)}/name`]: 'x' }, `metadata.labels[${'p'.repeat(64)}...]`],
    [{ team: 5 }, 'metadata.labels.team'],
    [['web'], 'metadata.labels'],
  ])('refuses labels %j naming %s', (labels, field) => {
    const result = validateManifest('Site', at(site(), ['metadata', 'labels'], labels), 'Strict');
    expect(errorsOf(result)).toEqual({ reason: 'Invalid', fields: [field] });
  });

  it('accepts annotations up to 256 KiB in total and refuses more', () => {
    const under = { 'a.io/x': 'x'.repeat(256 * 1024 - 6) };
    const over = { 'a.io/x': 'x'.repeat(256 * 1024 - 5) };
    expect(validateManifest('Site', at(site(), ['metadata', 'annotations'], under), 'Strict').ok).toBe(true);
    expect(errorsOf(validateManifest('Site', at(site(), ['metadata', 'annotations'], over), 'Strict'))).toEqual({
      reason: 'Invalid',
      fields: ['metadata.annotations'],
    });
  });

  it('counts annotation sizes in UTF-8 bytes', () => {
    const over = { note: 'ü'.repeat(128 * 1024) };
    expect(validateManifest('Site', at(site(), ['metadata', 'annotations'], over), 'Strict').ok).toBe(false);
  });

  it.each([
    [{ 'bad key!': 'x' }, 'metadata.annotations[bad key!]'],
    [{ note: 5 }, 'metadata.annotations.note'],
  ])('refuses annotations %j', (annotations, field) => {
    expect(errorsOf(validateManifest('Site', at(site(), ['metadata', 'annotations'], annotations), 'Strict')).fields).toEqual([field]);
  });

  it.each([
    [['pressluft.io/site-cleanup', 'pressluft.io/site-cleanup'], 'metadata.finalizers[1]'],
    [['pressluft.io/site cleanup'], 'metadata.finalizers[0]'],
    [['a', 'b', 'Pressluft.io/x'], 'metadata.finalizers[2]'],
    ['pressluft.io/site-cleanup', 'metadata.finalizers'],
    [Array.from({ length: 33 }, (_, i) => `pressluft.io/f${i}`), 'metadata.finalizers'],
  ])('refuses finalizers %j naming %s', (finalizers, field) => {
    expect(errorsOf(validateManifest('Site', at(site(), ['metadata', 'finalizers'], finalizers), 'Strict')).fields).toEqual([field]);
  });

  it.each([['abc'], ['-1'], ['1.5'], [42], ['1'.repeat(21)]])('refuses resourceVersion %j', (rv) => {
    expect(errorsOf(validateManifest('Site', at(site(), ['metadata', 'resourceVersion'], rv), 'Strict')).fields).toEqual(['metadata.resourceVersion']);
  });
});

describe('validateManifest: other kinds', () => {
  it.each([
    ['static node with address', 'Node', at(at(node(), ['spec', 'provider'], 'static'), ['spec', 'hetzner'], undefined), true],
    ['static node with IPv4', 'Node', at(at(at(node(), ['spec', 'provider'], 'static'), ['spec', 'hetzner'], undefined), ['spec', 'address'], '203.0.113.10'), true],
    ['unschedulable node', 'Node', at(node(), ['spec', 'unschedulable'], true), true],
    ['every Hetzner location', 'Node', at(node(), ['spec', 'hetzner', 'location'], 'sin'), true],
    ['backup without note', 'Backup', at(backup(), ['spec', 'note'], undefined), true],
    ['event without uid', 'Event', at(event(), ['spec', 'involvedObject', 'uid'], undefined), true],
    ['command fence 1', 'Command', at(command(), ['spec', 'fence'], 1), true],
  ] as const)('accepts %s', (_label, kind, body, ok) => {
    expect(validateManifest(kind, body, 'Strict').ok).toBe(ok);
  });

  it.each([
    ['hetzner without hetzner', 'Node', at(node(), ['spec', 'hetzner'], undefined), 'spec.hetzner'],
    ['hetzner block on a local node', 'Node', at(node(), ['spec', 'provider'], 'local'), 'spec.hetzner'],
    ['unknown provider', 'Node', at(node(), ['spec', 'provider'], 'aws'), 'spec.provider'],
    ['unknown location', 'Node', at(node(), ['spec', 'hetzner', 'location'], 'fra1'), 'spec.hetzner.location'],
    ['upper server type', 'Node', at(node(), ['spec', 'hetzner', 'serverType'], 'CX22'), 'spec.hetzner.serverType'],
    ['IPv6 address', 'Node', at(node(), ['spec', 'address'], '2001:db8::1'), 'spec.address'],
    ['bad IPv4', 'Node', at(node(), ['spec', 'address'], '256.1.1.1'), 'spec.address'],
    ['string unschedulable', 'Node', at(node(), ['spec', 'unschedulable'], 'true'), 'spec.unschedulable'],
    ['missing provider', 'Node', at(node(), ['spec', 'provider'], undefined), 'spec.provider'],
    ['backup without site', 'Backup', at(backup(), ['spec', 'site'], undefined), 'spec.site'],
    ['restore without backup', 'Restore', at(restore(), ['spec', 'backup'], undefined), 'spec.backup'],
    ['event type', 'Event', at(event(), ['spec', 'type'], 'Error'), 'spec.type'],
    ['event reason lower', 'Event', at(event(), ['spec', 'reason'], 'driftDetected'), 'spec.reason'],
    ['event long message', 'Event', at(event(), ['spec', 'message'], 'm'.repeat(1025)), 'spec.message'],
    ['event control chars', 'Event', at(event(), ['spec', 'message'], 'bell\u0007'), 'spec.message'],
    ['event count 0', 'Event', at(event(), ['spec', 'count'], 0), 'spec.count'],
    ['event unknown kind', 'Event', at(event(), ['spec', 'involvedObject', 'kind'], 'Pod'), 'spec.involvedObject.kind'],
    ['event local time', 'Event', at(event(), ['spec', 'lastTimestamp'], '2026-01-01T00:05:00+01:00'), 'spec.lastTimestamp'],
    ['event time order', 'Event', at(event(), ['spec', 'lastTimestamp'], '2025-12-31T23:00:00Z'), 'spec.lastTimestamp'],
    ['command fence 0', 'Command', at(command(), ['spec', 'fence'], 0), 'spec.fence'],
    ['command operation', 'Command', at(command(), ['spec', 'operation'], 'FormatDisk'), 'spec.operation'],
  ] as const)('refuses %s naming %s', (_label, kind, body, field) => {
    expect(errorsOf(validateManifest(kind, body, 'Strict'))).toEqual({ reason: 'Invalid', fields: [field] });
  });

  it('accepts multi-line printable event messages', () => {
    expect(validateManifest('Event', at(event(), ['spec', 'message'], 'line 1\n\tline 2\r\n'), 'Strict').ok).toBe(true);
  });
});

describe('validateStatus', () => {
  it.each([
    ['Site', { phase: 'ACTIVE', observedGeneration: 2, conditions: [], nodeName: 'local', fence: 3, currentRelease: '20261124T101500', releases: ['20261124T101500', '20261123T090000'], url: 'http://shop.example.test/' }],
    ['Node', { phase: 'READY', agentVersion: '1.2.3', lastHeartbeat: '2026-01-01T00:00:00Z', load: 0.42, capacity: { cpu: 4, memory: '8Gi' }, sites: 3, conditions: [{ type: 'Ready', status: 'True', reason: 'Heartbeat', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] }],
    ['Backup', { phase: 'SUCCEEDED', snapshots: { database: 'abcdef0123', files: '0123abcdef' }, bytesAdded: 1024, bytesTotal: 4096, startedAt: '2026-01-01T00:00:00Z', completedAt: '2026-01-01T00:01:00Z' }],
    ['Restore', { phase: 'RUNNING' }],
    ['Event', {}],
    ['Command', { state: 'RUNNING', log: ['step 1 done', 'step 2: "quoted" $(fine) in logs'], startedAt: '2026-01-01T00:00:00Z' }],
  ] as const)('accepts a %s status', (kind, status) => {
    expect(validateStatus(kind, status)).toMatchObject({ ok: true, value: status });
  });

  it.each([
    ['Site', 'PENDING'],
    ['Node', 'PENDING'],
    ['Command', 'PENDING'],
  ] as const)('fills %s status defaults from an empty object', (kind, phase) => {
    const result = validateStatus(kind, {});
    expect(result.ok && JSON.stringify(result.value)).toContain(phase);
  });

  it('gives a typed site status with defaults', () => {
    const result = validateStatus('Site', { phase: 'PROVISIONING' });
    expect(result).toEqual({ ok: true, value: { phase: 'PROVISIONING', observedGeneration: 0, conditions: [], fence: 0, releases: [] } });
  });

  it.each([
    ['Site', { phase: 'RUNNING' }, 'status.phase'],
    ['Site', { fence: -1 }, 'status.fence'],
    ['Site', { releases: ['yesterday'] }, 'status.releases[0]'],
    ['Site', { url: 'javascript:alert(1)' }, 'status.url'],
    ['Site', { extra: 1 }, 'status.extra'],
    ['Site', { conditions: [{ type: 'Ready', status: 'Yes', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] }, 'status.conditions[0].status'],
    ['Site', { conditions: [{ type: 'Ready', status: 'True', reason: 'not camel', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] }, 'status.conditions[0].reason'],
    ['Site', { conditions: [
      { type: 'Ready', status: 'True', reason: 'A', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'Ready', status: 'False', reason: 'B', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ] }, 'status.conditions[1].type'],
    ['Node', { load: -1 }, 'status.load'],
    ['Node', { agentVersion: 'latest' }, 'status.agentVersion'],
    ['Node', { lastHeartbeat: 'yesterday' }, 'status.lastHeartbeat'],
    ['Node', { sites: 1.5 }, 'status.sites'],
    ['Backup', { snapshotId: '../x' }, 'status.snapshotId'],
    ['Event', { phase: 'x' }, 'status.phase'],
    ['Command', { state: 'DONE' }, 'status.state'],
    ['Command', { log: ['ok', 7] }, 'status.log[1]'],
  ] as const)('refuses a %s status %j naming %s', (kind, status, field) => {
    const result = validateStatus(kind, status);
    expect(result.ok ? [] : result.errors.map((e) => e.field)).toEqual([field]);
  });

  it.each([null, 'ACTIVE', []])('refuses a status that is not an object: %j', (status) => {
    expect(validateStatus('Site', status)).toEqual({ ok: false, errors: [{ field: 'status', message: expect.stringMatching(/^(is required|must be an object)$/) as unknown }] });
  });
});
