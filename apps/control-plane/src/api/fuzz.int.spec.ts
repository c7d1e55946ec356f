import { randomBytes } from 'node:crypto';
import { METHODS } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { KINDS } from '@pressluft/domain';
import { pgQuery } from '@pressluft/testing';
import fc from 'fast-check';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { rawRequest, type RawResponse } from '../../test/raw-request.js';

/*
 * No client input of any shape reaches a 500 (issue 16, ADR 0024). fast-check generates requests
 * over every route the running app's router holds (a new route is fuzzed without touching this
 * file): methods x content types x encodings x body shapes x query parameters x callers. Every
 * answer must be below 500; every 4xx a Status whose code is the HTTP status; and a refused request
 * must leave resources, resource_changes, api_tokens, join_tokens and the outbox as they were.
 * The seed is new on each run and printed; FUZZ_SEED and FUZZ_RUNS replay one.
 */

const SEED = Number(process.env['FUZZ_SEED'] ?? randomBytes(4).readUInt32BE());
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 3000);

type Obj = Record<string, unknown>;
type Who = 'admin' | 'operator' | 'viewer' | 'none' | 'junk' | 'empty-bearer' | 'basic';

interface Route {
  readonly path: string;
  readonly methods: readonly string[];
}

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly who: Who;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly encoding: Encoding;
  readonly body: { readonly shape: string; readonly bytes: Buffer } | undefined;
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

const example = (file: string) => parseYaml(readFileSync(resolve(__dirname, '../../../../examples', file), 'utf8')) as Obj;
const TEMPLATES: Readonly<Record<string, Obj>> = {
  sites: example('site.yaml'),
  nodes: example('node.yaml'),
  tokens: { subject: 'fuzz', role: 'viewer' },
  jointokens: { nodeName: 'fuzz-node' },
  delete: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: '1' } },
};

/** Names the baseline holds, so that some requests reach an existing object. */
const EXISTING = ['fz-a', 'fz-b', 'fz-node'];
const BASELINE: ReadonlyArray<readonly [string, Obj]> = [
  ['nodes', { ...TEMPLATES['nodes'], metadata: { name: 'fz-node' } }],
  ...['fz-a', 'fz-b'].map((name) => ['sites', { ...TEMPLATES['sites'], metadata: { name }, spec: { ...(TEMPLATES['sites']?.['spec'] as Obj), domains: [`${name}.example.test`] } }] as const),
];
const PLURALS = [...KINDS.map((k) => k.plural), 'pods', 'Sites', 'site', ''];

const junkText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('..', '../..', '%', '%zz', '%00', '%2F', '%E0%A4%A', '\u0000', 'a'.repeat(300), '__proto__', 'constructor', 'toString', '*', '-1', '1e309'),
);

/** Percent-encodes what the URL cannot carry as is; keeps the raw escapes and traversals junkText holds on purpose. */
const segment = (value: string) => value.replace(/[^\w.~%*'()!$&+,;=:@-]/gu, (c) => encodeURIComponent(/^[\ud800-\udfff]$/u.test(c) ? '\ufffd' : c));

const PARAMS: Readonly<Record<string, fc.Arbitrary<string>>> = {
  plural: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...PLURALS) }, { weight: 1, arbitrary: junkText.map(segment) }),
  name: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...EXISTING) },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/) },
    { weight: 1, arbitrary: junkText.map(segment) },
  ),
  id: fc.oneof(fc.uuid().map(String), fc.stringMatching(/^[0-9a-f-]{32,36}$/), junkText.map(segment)),
};
const paramValue = (name: string) => PARAMS[name] ?? junkText.map(segment);

const METHOD_NAMES = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
/** Every method Node's parser accepts (CONNECT opens a tunnel, not a request). */
const ODD_METHODS = METHODS.filter((m) => !METHOD_NAMES.includes(m) && m !== 'CONNECT');

const CONTENT_TYPES = [
  'application/json',
  'application/yaml',
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'text/plain',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json;;;',
  'application/json; charset="unterminated',
  'application/json; =',
  'APPLICATION/JSON',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '*/*',
  ';',
  '',
];
/** Mostly a type the method takes, so that many bodies get past the media type check to the handlers. */
const contentType = (method: string) => fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...(method === 'PATCH' ? CONTENT_TYPES.slice(2, 4) : CONTENT_TYPES.slice(0, 2))) },
  { weight: 8, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES, undefined) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }) },
);
const ACCEPTS = [undefined, 'application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/yaml', 'text/html', '*/*', 'application/json;as=Table;v=v9', ';;;'];

type Encoding = 'none' | 'gzip' | 'deflate' | 'br' | 'identity' | 'bogus' | 'gzip-but-plain' | 'gzip,gzip' | 'truncated-gzip';
const ENCODINGS: readonly Encoding[] = ['none', 'gzip', 'deflate', 'br', 'identity', 'bogus', 'gzip-but-plain', 'gzip,gzip', 'truncated-gzip'];

function encode(encoding: Encoding, bytes: Buffer): { header: string | undefined; bytes: Buffer } {
  switch (encoding) {
    case 'none':
      return { header: undefined, bytes };
    case 'gzip':
      return { header: 'gzip', bytes: gzipSync(bytes) };
    case 'deflate':
      return { header: 'deflate', bytes: deflateSync(bytes) };
    case 'br':
      return { header: 'br', bytes: brotliCompressSync(bytes) };
    case 'identity':
      return { header: 'identity', bytes };
    case 'bogus':
      return { header: 'x-fuzz', bytes };
    case 'gzip-but-plain':
      return { header: 'gzip', bytes };
    case 'gzip,gzip':
      return { header: 'gzip, gzip', bytes: gzipSync(bytes) };
    case 'truncated-gzip': {
      const packed = gzipSync(bytes);
      return { header: 'gzip', bytes: packed.subarray(0, Math.max(1, packed.length >> 1)) };
    }
  }
}

/** A hostile value to put anywhere in a document. */
const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53 + 1, 1e308, '', [], {}, '9223372036854775808', '0001', 'fz-a'),
  junkText,
  fc.integer({ min: 1000, max: 100_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 10, max: 200 }).map((depth) => Array.from({ length: depth }).reduce<unknown>((inner) => ({ a: inner }), 1)),
  fc.integer({ min: 10, max: 200 }).map((depth) => Array.from({ length: depth }).reduce<unknown>((inner) => [inner], 1)),
  fc.constantFrom<unknown>({ __proto__: { admin: true } }, JSON.parse('{"__proto__":{"polluted":true}}'), { constructor: { prototype: { polluted: true } } }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Every (path to a value) in a document, the root included. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Object.entries(value as Obj).map(([k, v]) => paths(v, [...prefix, Array.isArray(value) ? Number(k) : k]));
  return [prefix, ...entries.flat()];
}

function setAt(root: unknown, path: ReadonlyArray<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = value;
  return copy;
}

const METADATA_FIELDS = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'finalizers', 'namespace', 'generateName', 'ownerReferences', 'managedFields'];
const extraMetadata = fc.dictionary(fc.constantFrom(...METADATA_FIELDS), fc.oneof(junkValue, fc.uuid().map(String), fc.constantFrom('1', '2026-12-06T00:00:00Z')), { maxKeys: 3 });
const freshName = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);

/** One of these templates, often valid as it is, else with a few values replaced by hostile ones; a Site or Node under a baseline or fresh name. */
const mutatedOf = (templates: readonly string[]) =>
  fc
    .tuple(
      fc.constantFrom(...templates),
      fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), junkValue), { minLength: 1, maxLength: 3 })),
      fc.oneof(fc.constantFrom(...EXISTING), freshName),
      fc.option(extraMetadata, { freq: 3 }),
    )
    .map(([template, edits, name, metadata]) => {
      let doc: unknown = structuredClone(TEMPLATES[template]);
      if (template === 'sites' || template === 'nodes') doc = setAt(doc, ['metadata'], { ...(doc as { metadata: Obj }).metadata, ...metadata, name });
      if (template === 'sites') doc = setAt(doc, ['spec', 'domains'], [`${name}.example.test`]);
      for (const [at, value] of edits) {
        const all = paths(doc);
        doc = setAt(doc, all[at % all.length] ?? [], value);
      }
      return doc;
    });
const mutated = mutatedOf(Object.keys(TEMPLATES));

const JSON_PATCH_PATHS = ['', '/', '/spec', '/spec/domains/-', '/spec/domains/0', '/metadata/name', '/metadata/uid', '/metadata/resourceVersion', '/metadata/labels/a~1b', '/~2', '/status', '/spec/php/maxChildren'];
const jsonPatch = fc.array(
  fc.record(
    {
      op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus', ''),
      path: fc.oneof(fc.constantFrom(...JSON_PATCH_PATHS), junkText),
      from: fc.oneof(fc.constantFrom(...JSON_PATCH_PATHS), junkText),
      value: junkValue,
    },
    { requiredKeys: ['op'] },
  ),
  { maxLength: 5 },
);

const document = fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 2, arbitrary: jsonPatch }, { weight: 1, arbitrary: junkValue });

/** The document written out in one of many ways, valid or not. */
const body = fc.oneof(
  { weight: 4, arbitrary: document.map((d) => ({ shape: 'json', bytes: Buffer.from(JSON.stringify(d) ?? 'null') })) },
  { weight: 2, arbitrary: document.map((d) => ({ shape: 'yaml', bytes: Buffer.from(toYaml(d)) })) },
  {
    weight: 1,
    arbitrary: document.map((d) => ({ shape: 'json with a duplicate key', bytes: Buffer.from(`{"kind":"Site","kind":"Node",${JSON.stringify(d).replace(/^[[{]/u, '"x":[')}}`) })),
  },
  { weight: 1, arbitrary: document.map((d) => ({ shape: 'json with __proto__ first', bytes: Buffer.from(`{"__proto__":{"admin":true},"x":${JSON.stringify(d) ?? 'null'}}`) })) },
  {
    weight: 1,
    arbitrary: fc.tuple(document, fc.nat()).map(([d, cut]) => {
      const text = JSON.stringify(d) ?? 'null';
      return { shape: 'truncated json', bytes: Buffer.from(text.slice(0, cut % Math.max(1, text.length))) };
    }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => ({ shape: 'random bytes', bytes: Buffer.from(b) })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('{}', '[]', 'null', '""', '1', '{"a":', '---\n---\n', 'a: &x [*x]', '!!js/function "f(){}"', '\ufeff{}', '{"a":1}{"b":2}').map((t) => ({ shape: 'edge', bytes: Buffer.from(t) })),
  },
);

const QUERY_VALUES: Readonly<Record<string, readonly string[]>> = {
  labelSelector: ['team=a', 'team in (a,b)', '!team', 'team!=', '=x', '((', 'a,b,,'],
  fieldSelector: ['metadata.name=fz-a', 'spec.nodeName=fz-node', 'metadata.name!=x', 'x==y', '==', 'status.phase'],
  limit: ['1', '0', '-1', '500', '99999999999', '1.5', 'NaN'],
  continue: ['', 'garbage', Buffer.from('{"after":"fz-a"}').toString('base64url'), Buffer.from('{"after":{}}').toString('base64url'), '%%%'],
  watch: ['true', '1', 'false', 'maybe', ''],
  resourceVersion: ['0', '1', '999999999999', '9223372036854775808', '18446744073709551616', 'abc', '-1'],
  resourceVersionMatch: ['NotOlderThan', 'Exact', 'x'],
  timeoutSeconds: ['1', '0', '-5', '99999999999'],
  allowWatchBookmarks: ['true', 'x'],
  dryRun: ['All', 'all', 'true', ''],
  fieldValidation: ['Strict', 'Warn', 'Ignore', 'strict', 'Bogus'],
  includeObject: ['Object', 'None', 'Metadata', 'Bogus'],
  involvedObject: ['sites/fz-a', 'garbage', 'nodes/'],
  site: ['fz-a', 'BAD_NAME'],
  propagationPolicy: ['Foreground', 'x'],
};
const queryPair = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...Object.keys(QUERY_VALUES)).chain((key) => fc.tuple(fc.constant(key), fc.oneof(fc.constantFrom(...(QUERY_VALUES[key] ?? [])), junkText))) },
  { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'a[b]', 'toString', 'watch[]'), junkText), junkText) },
);
const query = fc
  .array(queryPair, { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${segment(k)}=${segment(v)}`).join('&')}`));

type Target = Pick<FuzzRequest, 'method' | 'path' | 'contentType' | 'body'>;

/** Any route of the router, with any method, parameters and body. */
function anyRoute(routes: readonly Route[]): fc.Arbitrary<Target> {
  return fc.constantFrom(...routes).chain((r) => {
    const names = [...r.path.matchAll(/:(\w+)/gu)].map((m) => m[1] ?? '');
    return fc.record({
      method: fc
        .oneof({ weight: 6, arbitrary: fc.constantFrom(...r.methods) }, { weight: 3, arbitrary: fc.constantFrom(...METHOD_NAMES) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_METHODS) })
        .chain((method) => fc.record({ method: fc.constant(method), contentType: contentType(method) })),
      path: fc.tuple(...names.map(paramValue), fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '/extra', '//') })).map((values) => {
        let i = 0;
        return r.path.replace(/:(\w+)/gu, () => values[i++] ?? '') + (values[names.length] ?? '');
      }),
      body: fc.option(body, { freq: 5 }),
    }).map(({ method: { method, contentType: type }, path, body: b }) => ({ method, path, contentType: type, body: b ?? undefined }));
  });
}

/**
 * The document's metadata.name when an edit left it a short string (a PUT or PATCH goes to that name).
 * A 100 KB name would make a request line over Node's 16 KiB header limit: its parser answers 431
 * and closes the connection before the application sees the request.
 */
function nameIn(doc: unknown): string {
  const name = (doc as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  return typeof name === 'string' && name.length <= 253 ? name : 'fz-a';
}

/** Creates, replaces and merge patches of Sites and Nodes that are often valid: past parsing to validation, admission and the store. */
const write: fc.Arbitrary<Target> = fc
  .tuple(fc.constantFrom('sites', 'nodes'), fc.constantFrom('POST', 'PUT', 'PATCH'), fc.boolean())
  .chain(([plural, method, yaml]) =>
    fc.record({ doc: mutatedOf([plural]), contentType: contentType(method) }).map(({ doc, contentType: type }) => ({
      method,
      path: `/apis/pressluft.io/v1/${plural}${method === 'POST' ? '' : `/${segment(nameIn(doc))}`}`,
      contentType: type,
      body: { shape: `near-valid ${yaml ? 'yaml' : 'json'}`, bytes: Buffer.from(yaml ? toYaml(doc) : JSON.stringify(doc)) },
    })),
  );

function requests(routes: readonly Route[]): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      target: fc.oneof({ weight: 2, arbitrary: anyRoute(routes) }, { weight: 1, arbitrary: write }),
      query,
      who: fc.oneof({ weight: 6, arbitrary: fc.constant<Who>('admin') }, { weight: 3, arbitrary: fc.constantFrom<Who>('operator', 'viewer', 'none', 'junk', 'empty-bearer', 'basic') }),
      accept: fc.constantFrom(...ACCEPTS),
      encoding: fc.oneof({ weight: 6, arbitrary: fc.constant<Encoding>('none') }, { weight: 3, arbitrary: fc.constantFrom(...ENCODINGS) }),
    })
    .map(({ target, ...rest }) => ({ ...target, ...rest }));
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/** The state a refusal must not touch, as one comparable row. */
const STATE_SQL = `
  SELECT
    (SELECT md5(coalesce(string_agg(kind || '/' || name || '@' || resource_version, ',' ORDER BY kind, name), '')) FROM resources) AS resources,
    (SELECT count(*) || '@' || coalesce(max(resource_version), 0) FROM resource_changes) AS changes,
    (SELECT md5(coalesce(string_agg(id || role || (revoked_at IS NULL)::text, ',' ORDER BY id), '')) FROM api_tokens) AS tokens,
    (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM join_tokens t) AS "joinTokens",
    (SELECT count(*) FROM outbox)::int AS outbox`;

interface Finding {
  readonly request: string;
  readonly problem: string;
}

const describeRequest = (r: FuzzRequest) =>
  `${r.method} ${r.path}${r.query} who=${r.who} type=${JSON.stringify(r.contentType)} accept=${JSON.stringify(r.accept)} encoding=${r.encoding} body=${
    r.body ? `${r.body.shape}:${JSON.stringify(r.body.bytes.subarray(0, 160).toString('utf8'))}` : 'none'
  }`;

/** What is wrong with this answer (undefined: nothing). */
function problemOf(r: FuzzRequest, res: RawResponse): string | undefined {
  if (res.status >= 500) return `${res.status}: ${res.text.slice(0, 200)}`;
  if (res.status < 400 || r.method === 'HEAD') return undefined;
  let status: Obj | undefined;
  try {
    status = JSON.parse(res.text) as Obj;
  } catch {
    return `${res.status} without a JSON body: ${JSON.stringify(res.text.slice(0, 120))}`;
  }
  if (status['kind'] !== 'Status' || status['code'] !== res.status || typeof status['reason'] !== 'string' || status['reason'] === '') {
    return `${res.status} whose body is not a Status with that code and a reason: ${res.text.slice(0, 200)}`;
  }
  return undefined;
}

describe('API fuzzing: no input reaches a 500', () => {
  let fx: ControlPlaneFixture;
  const tokens: Partial<Record<Who, string>> = {};
  const state = async () => JSON.stringify((await pgQuery(fx.database.url, STATE_SQL)).rows[0]);

  beforeAll(async () => {
    fx = await startControlPlaneFixture({ env: { PRESSLUFT_ENGINE: 'false' } });
    tokens.admin = fx.adminToken;
    tokens.operator = await fx.token('operator', 'olga');
    tokens.viewer = await fx.token('viewer', 'vera');
    await restoreBaseline();
  });

  /** Creates the objects EXISTING names that are missing (201; 409: still there), so that requests keep reaching them after a generated DELETE. */
  async function restoreBaseline(): Promise<void> {
    for (const [plural, manifest] of BASELINE) {
      const res = await rawRequest(fx.plane.httpUrl, `/apis/pressluft.io/v1/${plural}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(manifest),
      });
      expect([201, 409], res.text).toContain(res.status);
    }
  }

  afterAll(async () => {
    await fx?.stop();
  });

  function headers(r: FuzzRequest, bytes: Buffer | undefined, encoding: string | undefined): Record<string, string> {
    const auth: Record<Who, Record<string, string>> = {
      admin: { authorization: `Bearer ${tokens.admin ?? ''}` },
      operator: { authorization: `Bearer ${tokens.operator ?? ''}` },
      viewer: { authorization: `Bearer ${tokens.viewer ?? ''}` },
      none: {},
      junk: { authorization: `Bearer plt_${'A'.repeat(43)}` },
      'empty-bearer': { authorization: 'Bearer ' },
      basic: { authorization: `Basic ${Buffer.from(`admin:${tokens.admin ?? ''}`).toString('base64')}` },
    };
    return {
      ...auth[r.who],
      ...(r.contentType === undefined ? {} : { 'content-type': r.contentType }),
      ...(r.accept === undefined ? {} : { accept: r.accept }),
      ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
      ...(bytes === undefined ? {} : { 'content-length': String(bytes.length) }),
    };
  }

  it(`answers ${RUNS} generated requests over every route below 500, with a Status on each 4xx and no change on a refusal (FUZZ_SEED=${SEED})`, async () => {
    const stack = (fx.plane.app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }).router.stack;
    const served: Route[] = stack.flatMap((layer) => (layer.route ? [{ path: layer.route.path, methods: Object.keys(layer.route.methods).map((m) => m.toUpperCase()) }] : []));
    const routes = [...served, { path: '/:unknown', methods: METHOD_NAMES }, { path: '/apis/pressluft.io/v1/:plural/:name/:unknown', methods: METHOD_NAMES }];
    // The enumeration works: the resource, action, token and discovery routes are all there.
    for (const known of ['/apis/pressluft.io/v1/:plural/:name', '/apis/pressluft.io/v1/sites/:name/rollback', '/auth/v1/tokens/:id', '/openapi/v3']) {
      expect(served.map((r) => r.path)).toContain(known);
    }
    console.log(`API fuzz: seed ${SEED}, ${RUNS} requests over ${served.length} routes (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`);

    const findings: Finding[] = [];
    const codes = new Map<number, number>();
    const started = Date.now();
    let before = await state();
    for (const r of fc.sample(requests(routes), { seed: SEED, numRuns: RUNS })) {
      const encoded = r.body ? encode(r.encoding, r.body.bytes) : undefined;
      // As Kubernetes parses a boolean parameter: present and empty is true (`watch=` streams).
      const watch = /[?&]watch=(true|1|)(&|$)/u.test(r.query) || r.path.includes('/watch/');
      let res: RawResponse;
      try {
        res = await rawRequest(fx.plane.httpUrl, `${r.path}${r.query}`, {
          method: r.method,
          headers: headers(r, encoded?.bytes, encoded?.header),
          ...(encoded ? { body: encoded.bytes } : {}),
          headersOnlyOn2xx: watch,
          timeoutMs: 5000,
        });
      } catch (error) {
        findings.push({ request: describeRequest(r), problem: `no answer: ${String(error)}` });
        continue;
      }
      codes.set(res.status, (codes.get(res.status) ?? 0) + 1);
      const problem = problemOf(r, res);
      if (problem) findings.push({ request: describeRequest(r), problem });
      const after = await state();
      if (res.status >= 400 && after !== before) findings.push({ request: describeRequest(r), problem: `refused with ${res.status} but changed ${before} -> ${after}` });
      before = after;
      if (r.method === 'DELETE' && res.status < 300) {
        await restoreBaseline();
        before = await state();
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`API fuzz: ${RUNS} requests in ${seconds} s; answers ${JSON.stringify(Object.fromEntries([...codes].sort(([a], [b]) => a - b)))}; ${findings.length} findings`);
    expect(findings.slice(0, 25), `seed ${SEED}: ${findings.length} findings (replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`).toEqual([]);
  }, 300_000);
});
