import { describe, expect, it } from 'vitest';
import { isPlainObject, type JsonObject } from './json.js';
import { KINDS } from './kinds.js';
import { buildOpenApiV3, buildOpenApiV3Index, openApiSchemaName, toOpenApiSchema } from './openapi.js';
import { SPEC_SCHEMAS, STATUS_SCHEMAS } from './resource.js';

const doc = buildOpenApiV3() as { openapi: string; paths: Record<string, JsonObject>; components: { schemas: Record<string, JsonObject> } };
const served = KINDS.filter((k) => k.served);
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

/** Every node of a JSON tree with the key that led to it. */
function walk(node: unknown, visit: (value: JsonObject, key: string) => void, key = ''): void {
  if (Array.isArray(node)) node.forEach((item) => walk(item, visit, key));
  else if (isPlainObject(node)) {
    visit(node, key);
    for (const [k, v] of Object.entries(node)) walk(v, visit, k);
  }
}

const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m] !== undefined).map((method) => ({ path, method, op: item[method] as JsonObject })),
);

describe('buildOpenApiV3: document', () => {
  it('is OpenAPI 3.0', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d$/);
    expect(doc).toMatchObject({ info: { title: 'Pressluft', version: 'v1' } });
  });

  it.each(['$schema', '$defs', 'definitions', 'const', 'propertyNames', 'prefixItems', 'unevaluatedProperties', 'examples', 'dependentRequired', '$id'])(
    'uses no JSON Schema keyword OpenAPI 3.0 lacks: %s',
    (keyword) => {
      const found: string[] = [];
      walk(doc.components.schemas, (node) => {
        if (keyword in node && !('properties' in node && isPlainObject(node['properties']) && keyword in node['properties'])) found.push(keyword);
      });
      expect(found).toEqual([]);
    },
  );

  it('never uses type arrays (3.1 style nullability)', () => {
    walk(doc.components.schemas, (node, key) => {
      if (key !== 'properties' && 'type' in node) expect(typeof node['type']).toBe('string');
    });
  });

  it('resolves every $ref inside the document', () => {
    const refs: string[] = [];
    walk(doc, (node) => {
      if (typeof node['$ref'] === 'string') refs.push(node['$ref']);
    });
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of new Set(refs)) {
      expect(ref.startsWith('#/components/schemas/')).toBe(true);
      expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)]).toBeDefined();
    }
  });

  it('compiles every pattern as an ECMAScript regular expression', () => {
    const patterns: string[] = [];
    walk(doc.components.schemas, (node) => {
      if (typeof node['pattern'] === 'string') patterns.push(node['pattern']);
    });
    expect(patterns.length).toBeGreaterThan(20);
    for (const pattern of patterns) expect(() => new RegExp(pattern, 'u')).not.toThrow();
  });

  it('returns a fresh document each time', () => {
    const first = buildOpenApiV3() as { paths: JsonObject };
    first.paths = {};
    expect(Object.keys((buildOpenApiV3() as { paths: JsonObject }).paths).length).toBeGreaterThan(0);
  });

  it('defines the Kubernetes meta schemas', () => {
    for (const name of ['ObjectMeta', 'ListMeta', 'Status', 'StatusDetails', 'StatusCause', 'DeleteOptions', 'WatchEvent', 'Patch']) {
      expect(doc.components.schemas[`io.k8s.apimachinery.pkg.apis.meta.v1.${name}`]).toBeDefined();
    }
    const meta = doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'] as { properties: JsonObject; required?: string[] };
    expect(Object.keys(meta.properties)).toEqual(
      expect.arrayContaining(['name', 'uid', 'generation', 'resourceVersion', 'labels', 'annotations', 'finalizers', 'creationTimestamp', 'deletionTimestamp']),
    );
    expect(meta.required ?? []).toEqual([]);
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Status']).toMatchObject({
      'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Status' }],
      properties: { details: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails' }] } },
    });
  });
});

describe('buildOpenApiV3: kind schemas', () => {
  it.each(served.map((k) => k.kind))('%s and %sList carry their GVK and envelope', (kind) => {
    expect(doc.components.schemas[openApiSchemaName(kind)]).toMatchObject({
      type: 'object',
      'x-kubernetes-group-version-kind': [{ group: 'pressluft.io', version: 'v1', kind }],
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] },
        spec: { type: 'object' },
        status: { type: 'object' },
      },
    });
    expect(doc.components.schemas[openApiSchemaName(`${kind}List`)]).toMatchObject({
      'x-kubernetes-group-version-kind': [{ group: 'pressluft.io', version: 'v1', kind: `${kind}List` }],
      properties: { items: { type: 'array', items: { $ref: `#/components/schemas/io.pressluft.v1.${kind}` } } },
    });
  });

  it.each(KINDS.filter((k) => !k.served).map((k) => k.kind))('does not publish the unserved kind %s', (kind) => {
    expect(doc.components.schemas[openApiSchemaName(kind)]).toBeUndefined();
  });

  it('publishes the site spec from zod, with patterns, defaults and no extra fields', () => {
    const spec = (doc.components.schemas['io.pressluft.v1.Site'] as { properties: { spec: JsonObject } }).properties.spec;
    expect(spec).toMatchObject({
      additionalProperties: false,
      required: ['domains', 'wordpress'],
      properties: {
        environment: { type: 'string', enum: ['production', 'staging'], default: 'production' },
        domains: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', pattern: expect.any(String) as unknown } },
        php: { default: {}, properties: { memoryLimit: { default: '256M' }, maxChildren: { type: 'integer', minimum: 1, maximum: 200, default: 5 } } },
        drift: { properties: { policy: { enum: ['Observe', 'Remediate'], default: 'Observe' } } },
      },
    });
  });

  it.each(Object.keys(SPEC_SCHEMAS) as (keyof typeof SPEC_SCHEMAS)[])('every string in the %s spec has a pattern, enum or format', (kind) => {
    const loose: string[] = [];
    walk(toOpenApiSchema(SPEC_SCHEMAS[kind]), (node, key) => {
      if (key !== 'properties' && node['type'] === 'string' && !('pattern' in node) && !('enum' in node) && !('format' in node)) loose.push(JSON.stringify(node));
    });
    expect(loose).toEqual([]);
  });

  it.each(Object.keys(STATUS_SCHEMAS) as (keyof typeof STATUS_SCHEMAS)[])('every string in the %s status has a pattern, enum or format', (kind) => {
    const loose: string[] = [];
    walk(toOpenApiSchema(STATUS_SCHEMAS[kind]), (node, key) => {
      if (key !== 'properties' && node['type'] === 'string' && !('pattern' in node) && !('enum' in node) && !('format' in node)) loose.push(JSON.stringify(node));
    });
    expect(loose).toEqual([]);
  });

  it('drops safe-integer noise but keeps real bounds', () => {
    const status = toOpenApiSchema(STATUS_SCHEMAS.Command) as { properties: JsonObject };
    expect(JSON.stringify(doc)).not.toContain(String(Number.MAX_SAFE_INTEGER));
    expect(toOpenApiSchema(SPEC_SCHEMAS.Command)).toMatchObject({ properties: { fence: { type: 'integer', minimum: 1 } } });
    expect(status.properties['log']).toMatchObject({ type: 'array', maxItems: 10000 });
  });

  it("documents a Site's status.health (strict, bounded)", () => {
    const status = toOpenApiSchema(STATUS_SCHEMAS.Site) as { properties: JsonObject };
    expect(status.properties['health']).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['state', 'processUp', 'restarts', 'crashLooping', 'observedAt']) as unknown,
      properties: {
        state: { enum: ['UNKNOWN', 'SERVING', 'NOT_SERVING'] },
        message: { type: 'string', maxLength: 256 },
        httpStatus: { type: 'integer', minimum: 100, maximum: 599 },
        restarts: { type: 'integer', minimum: 0 },
      },
    });
  });
});

describe('buildOpenApiV3: paths', () => {
  const expected = served.flatMap((k) => {
    const base = `/apis/pressluft.io/v1/${k.plural}`;
    const rows: [string, string, string, string][] = [
      [base, 'get', 'list', `listPressluftV1${k.kind}`],
      [`${base}/{name}`, 'get', 'get', `readPressluftV1${k.kind}`],
      [`/apis/pressluft.io/v1/watch/${k.plural}`, 'get', 'watchlist', `watchPressluftV1${k.kind}List`],
    ];
    if (k.userWritable) {
      rows.push(
        [base, 'post', 'post', `createPressluftV1${k.kind}`],
        [`${base}/{name}`, 'put', 'put', `replacePressluftV1${k.kind}`],
        [`${base}/{name}`, 'patch', 'patch', `patchPressluftV1${k.kind}`],
        [`${base}/{name}`, 'delete', 'delete', `deletePressluftV1${k.kind}`],
      );
    }
    return rows.map((row) => [...row, k.kind] as const);
  });

  it.each(expected)('%s %s is x-kubernetes-action %s (%s)', (path, method, action, operationId, kind) => {
    expect(doc.paths[path]?.[method]).toMatchObject({
      operationId,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': { group: 'pressluft.io', version: 'v1', kind },
    });
  });

  it('has exactly those operations for the kinds, and unique operation ids', () => {
    const ids = operations.map((o) => o.op['operationId']);
    expect(new Set(ids).size).toBe(ids.length);
    const kindIds = operations.filter((o) => o.op['x-kubernetes-group-version-kind'] !== undefined).map((o) => o.op['operationId']);
    expect(kindIds.sort()).toEqual(expected.map((e) => e[3]).sort());
  });

  it.each([
    ['/apis/pressluft.io/v1/sites/{name}/rollback', 'post', '201'],
    ['/apis/pressluft.io/v1/sites/{name}/check-drift', 'post', '201'],
    ['/apis/pressluft.io/v1/sites/{name}/rotate-credentials', 'post', '201'],
    ['/apis/pressluft.io/v1/commands/{name}/retry', 'post', '201'],
    ['/apis/pressluft.io/v1/commands/{name}/abandon', 'post', '200'],
  ])('%s %s answers %s with the Command', (path, method, code) => {
    const responses = (doc.paths[path]?.[method] as { responses: Record<string, { content: Record<string, { schema: JsonObject }> }> }).responses;
    expect(responses[code]?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/io.pressluft.v1.Command' });
    expect(doc.paths[path]?.['parameters']).toEqual([expect.objectContaining({ name: 'name', in: 'path', required: true })]);
  });

  it('publishes the request bodies of rollback and the tokens from their zod schemas', () => {
    expect(doc.components.schemas['io.pressluft.v1.RollbackRequest']).toMatchObject({ additionalProperties: false, properties: { release: { type: 'string', pattern: expect.any(String) as unknown } } });
    expect(doc.components.schemas['io.pressluft.auth.v1.JoinTokenRequest']).toMatchObject({
      required: ['node'],
      properties: { ttlSeconds: { type: 'integer', minimum: 60, maximum: 86400, default: 3600 } },
    });
    expect(doc.components.schemas['io.pressluft.auth.v1.TokenRequest']).toMatchObject({ properties: { role: { enum: ['admin', 'operator', 'viewer'] } } });
    for (const [plural, kind] of [['tokens', 'Token'], ['jointokens', 'JoinToken']]) {
      expect(doc.paths[`/auth/v1/${plural}`]?.['post']).toMatchObject({ requestBody: { content: { 'application/json': { schema: { $ref: `#/components/schemas/io.pressluft.auth.v1.${kind}Request` } } } } });
      expect(doc.paths[`/auth/v1/${plural}/{id}`]?.['delete']).toBeDefined();
    }
  });

  it.each(['/version', '/healthz', '/readyz', '/metrics'])('%s needs no token', (path) => {
    expect(doc.paths[path]?.['get']).toMatchObject({ security: [] });
  });

  it.each([
    ['events', 'post'],
    ['events/{name}', 'put'],
    ['events/{name}', 'patch'],
    ['events/{name}', 'delete'],
    ['commands', 'post'],
    ['commands/{name}', 'patch'],
  ])('offers no %s %s', (path, method) => {
    expect(doc.paths[`/apis/pressluft.io/v1/${path}`]?.[method]).toBeUndefined();
  });

  it.each(operations.filter((o) => ['post', 'put', 'patch'].includes(o.method) && o.op['x-kubernetes-group-version-kind'] !== undefined).map((o) => [o.op['operationId'] as string, o.op] as const))(
    '%s declares fieldValidation, dryRun and fieldManager as query parameters',
    (_id, op) => {
      const params = op['parameters'] as { name: string; in: string; schema: JsonObject }[];
      expect(params.find((p) => p.name === 'fieldValidation')).toMatchObject({ in: 'query', schema: { enum: ['Strict', 'Warn', 'Ignore'] } });
      expect(params.find((p) => p.name === 'dryRun')).toMatchObject({ in: 'query' });
      expect(params.find((p) => p.name === 'fieldManager')).toMatchObject({ in: 'query' });
    },
  );

  it.each(served.filter((k) => k.userWritable).map((k) => k.plural))('%s: patch accepts merge and JSON patches; post and put accept JSON and YAML', (plural) => {
    const item = doc.paths[`/apis/pressluft.io/v1/${plural}/{name}`] as Record<string, { requestBody: { content: JsonObject } }>;
    const collection = doc.paths[`/apis/pressluft.io/v1/${plural}`] as Record<string, { requestBody: { content: JsonObject } }>;
    expect(Object.keys(item['patch']!.requestBody.content)).toEqual(['application/merge-patch+json', 'application/json-patch+json']);
    expect(Object.keys(item['put']!.requestBody.content)).toEqual(['application/json', 'application/yaml']);
    expect(Object.keys(collection['post']!.requestBody.content)).toEqual(['application/json', 'application/yaml']);
  });

  it.each(operations.filter((o) => o.op['x-kubernetes-action'] === 'list').map((o) => [o.path, o.op] as const))('%s list takes the list and watch parameters', (_path, op) => {
    const names = (op['parameters'] as { name: string }[]).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['labelSelector', 'limit', 'continue', 'watch', 'resourceVersion']));
  });

  it('declares the contract filters of events and commands', () => {
    const names = (path: string) => ((doc.paths[path]?.['get'] as JsonObject)['parameters'] as { name: string }[]).map((p) => p.name);
    expect(names('/apis/pressluft.io/v1/events')).toContain('involvedObject');
    expect(names('/apis/pressluft.io/v1/commands')).toContain('site');
  });

  it.each(operations.map((o) => [`${o.method} ${o.path}`, o.op] as const))('%s answers with a schema on success and a Status by default', (_label, op) => {
    const responses = op['responses'] as Record<string, { content?: Record<string, { schema: JsonObject }> }>;
    const success = responses['200'] ?? responses['201'];
    expect(Object.values(success?.content ?? {})[0]?.schema).toEqual(expect.any(Object));
    if (op['x-kubernetes-group-version-kind'] !== undefined) expect(Object.values(success?.content ?? {})[0]?.schema['$ref']).toMatch(/^#\/components\/schemas\//);
    expect(responses['default']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status' });
  });

  it('names the path parameter on item paths', () => {
    expect(doc.paths['/apis/pressluft.io/v1/sites/{name}']?.['parameters']).toEqual([expect.objectContaining({ name: 'name', in: 'path', required: true })]);
  });
});

describe('buildOpenApiV3Index', () => {
  it.each([
    [undefined, '/openapi/v3/apis/pressluft.io/v1'],
    ['abc123', '/openapi/v3/apis/pressluft.io/v1?hash=abc123'],
  ])('hash %s -> %s', (hash, url) => {
    expect(buildOpenApiV3Index(hash)).toEqual({ paths: { 'apis/pressluft.io/v1': { serverRelativeURL: url } } });
  });
});
