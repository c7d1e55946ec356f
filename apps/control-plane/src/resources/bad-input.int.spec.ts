import { api, type ApiRequest, type ApiResponse } from '@pressluft/e2e-harness';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { pgQuery } from '@pressluft/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneFixture, type ControlPlaneFixture } from '../../test/control-plane.fixture.js';
import { rawRequest, type RawRequest } from '../../test/raw-request.js';

/*
 * "Bad input changes nothing" (contract.md): a table of refused requests. Each one is sent
 * against a known baseline and must answer the right Status (code, reason, the field at fault),
 * leave resources, resource_changes and api_tokens exactly as they were, and add exactly one
 * audit row when it was a mutation (none for a read).
 */

const API = '/apis/pressluft.io/v1';
const SITES = `${API}/sites`;
const NODES = `${API}/nodes`;
const TOKENS = '/auth/v1/tokens';
const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const MIB = 1024 * 1024;

const exampleSite = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8')) as Obj;
const exampleNode = parseYaml(readFileSync(resolve(__dirname, '../../../../examples/node.yaml'), 'utf8')) as Obj;

type Obj = Record<string, unknown>;
type Segment = string | number;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** Who sends the request: a role's token, or one of the ways to have no valid token. */
type Who = 'admin' | 'operator' | 'viewer' | 'none' | 'revoked' | 'unknown' | 'malformed' | 'admin+junk' | 'basic' | 'empty-bearer';

interface Case {
  readonly name: string;
  readonly method: Method;
  /** A function when the path needs something only known after the baseline (a token id). */
  readonly path: string | (() => string);
  readonly who?: Who;
  readonly body?: unknown;
  readonly raw?: string | Buffer;
  readonly contentType?: string;
  /** Send the body with no Content-Type header at all. */
  readonly noContentType?: boolean;
  /** More request headers (Content-Encoding). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly accept?: string;
  readonly code: number;
  readonly reason: string;
  /** Fields that must each be named by a cause. */
  readonly fields?: readonly string[];
  /** Hostile values the answer must not echo back. */
  readonly secrets?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Manifests
// ---------------------------------------------------------------------------------------------

const clone = <T>(value: T): T => structuredClone(value);

/** A copy of `root` with the value at `path` replaced (undefined deletes it); parents are created. */
function setIn(root: unknown, path: readonly Segment[], value: unknown): Obj {
  const out = clone(root) as Obj;
  let node: Record<string | number, unknown> = out;
  path.slice(0, -1).forEach((segment, i) => {
    const next = node[segment];
    if (next === null || typeof next !== 'object') node[segment] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[segment] as Record<string | number, unknown>;
  });
  const last = path[path.length - 1] as Segment;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return out;
}

function getIn(root: unknown, path: readonly Segment[]): unknown {
  let node: unknown = root;
  for (const segment of path) node = (node as Record<string | number, unknown> | undefined)?.[segment];
  return node;
}

/** The example site under another name (and its own domain). */
function site(name: string): Obj {
  const base = clone(exampleSite);
  return { ...base, metadata: { ...(base['metadata'] as Obj), name }, spec: { ...(base['spec'] as Obj), domains: [`${name}.example.test`] } };
}

/** The example site with every optional string field set, so each can be spoiled on its own. */
function fullSite(name: string): Obj {
  let s = site(name);
  s = setIn(s, ['spec', 'wordpress', 'locale'], 'de_DE');
  s = setIn(s, ['spec', 'code'], { git: { url: 'https://git.example.test/shop.git', ref: 'main' } });
  s = setIn(s, ['spec', 'php', 'version'], '8.2');
  return setIn(s, ['spec', 'php', 'uploadMaxSize'], '64M');
}

type NodeTemplate = 'local' | 'static' | 'hetzner';

function node(name: string, template: NodeTemplate = 'local'): Obj {
  const base = clone(exampleNode);
  const spec: Obj = { ...(base['spec'] as Obj), labels: { role: 'web' } };
  if (template === 'static') Object.assign(spec, { provider: 'static', address: '203.0.113.10' });
  if (template === 'hetzner') Object.assign(spec, { provider: 'hetzner', hetzner: { serverType: 'cx22', location: 'fsn1', image: 'ubuntu-24.04' } });
  return { ...base, metadata: { ...(base['metadata'] as Obj), name }, spec };
}

const siteWith = (name: string, path: readonly Segment[], value: unknown) => setIn(site(name), path, value);
const nodeWith = (name: string, path: readonly Segment[], value: unknown, template: NodeTemplate = 'local') => setIn(node(name, template), path, value);

/** Kubernetes field paths, as the server formats them: spec.domains[0], metadata.labels.team. */
function fieldOf(path: readonly Segment[]): string {
  return path.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out === '' ? s : `${out}.${s}`), '');
}

let fresh = 0;
/** A name no object has: a POST that wrongly succeeded would show up as a new row. */
const freshName = (prefix = 'bad') => `${prefix}-${++fresh}`;

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const cases: Case[] = [];
const add = (c: Case) => cases.push(c);
const invalid = (name: string, request: Omit<Case, 'name' | 'code' | 'reason'>, ...fields: string[]) =>
  add({ name, ...request, code: 422, reason: 'Invalid', fields });
const badRequest = (name: string, request: Omit<Case, 'name' | 'code' | 'reason'>, ...fields: string[]) =>
  add({ name, ...request, code: 400, reason: 'BadRequest', fields });

// 1. Every string field of Site and Node x shell metacharacters, path traversal, trailing newline.
//    Each payload is sent once per kind with every string field spoiled at the same time (every
//    field must be named by a cause: the full field x payload product in 26 requests), and each
//    field is also spoiled on its own, so no field is refused only because a neighbour was.
interface Field {
  readonly kind: 'Site' | 'Node';
  readonly path: readonly Segment[];
  readonly traversal?: string;
}
const STRING_FIELDS: readonly Field[] = [
  { kind: 'Site', path: ['spec', 'environment'] },
  { kind: 'Site', path: ['spec', 'domains', 0] },
  { kind: 'Site', path: ['spec', 'nodeName'] },
  { kind: 'Site', path: ['spec', 'wordpress', 'version'] },
  { kind: 'Site', path: ['spec', 'wordpress', 'title'] },
  { kind: 'Site', path: ['spec', 'wordpress', 'adminUser'] },
  { kind: 'Site', path: ['spec', 'wordpress', 'adminEmail'] },
  { kind: 'Site', path: ['spec', 'wordpress', 'locale'] },
  { kind: 'Site', path: ['spec', 'code', 'git', 'url'], traversal: 'https://git.example.test/../../etc/passwd' },
  { kind: 'Site', path: ['spec', 'code', 'git', 'ref'], traversal: 'main/../../etc/passwd' },
  { kind: 'Site', path: ['spec', 'php', 'version'] },
  { kind: 'Site', path: ['spec', 'php', 'memoryLimit'] },
  { kind: 'Site', path: ['spec', 'php', 'uploadMaxSize'] },
  { kind: 'Site', path: ['spec', 'resources', 'cpu'] },
  { kind: 'Site', path: ['spec', 'resources', 'memory'] },
  { kind: 'Site', path: ['spec', 'backup', 'schedule'] },
  { kind: 'Site', path: ['spec', 'drift', 'policy'] },
  { kind: 'Site', path: ['metadata', 'labels', 'team'] },
  { kind: 'Node', path: ['spec', 'provider'] },
  { kind: 'Node', path: ['spec', 'labels', 'role'] },
  { kind: 'Node', path: ['spec', 'address'] },
  { kind: 'Node', path: ['spec', 'hetzner', 'serverType'] },
  { kind: 'Node', path: ['spec', 'hetzner', 'location'] },
  { kind: 'Node', path: ['spec', 'hetzner', 'image'] },
  { kind: 'Node', path: ['metadata', 'labels', 'role'] },
];
/** Appended to a valid value: `; | & $( ) \` < > \ "` and newline; then path traversal and a trailing newline. */
const PAYLOADS: ReadonlyArray<readonly [string, (valid: string, field: Field) => string]> = [
  ...[';id', '|id', '&id', '$(id)', ')', '`id`', '<x', '>x', '\\x', '"x', '\nid'].map(
    (m) => [JSON.stringify(m), (valid: string) => valid + m] as const,
  ),
  ['path traversal', (_valid, field) => field.traversal ?? '../../etc/passwd'],
  ['trailing newline', (valid) => `${valid}\n`],
];

/** Every field a case of this section may spoil is present and valid in these templates. */
const template = (kind: 'Site' | 'Node', name: string) =>
  kind === 'Site' ? fullSite(name) : setIn(node(name, 'hetzner'), ['spec', 'address'], '203.0.113.10');

const FORMS = ['POST', 'PUT', 'merge patch', 'JSON patch'] as const;
let formIndex = 0;

/** One request spoiling `fields`, in the next of the four forms (create, replace, merge patch, JSON patch); each field must be named. */
function spoilCase(kind: 'Site' | 'Node', fields: readonly Field[], label: string, payload: (valid: string, field: Field) => unknown, hostile = true): void {
  const form = FORMS[formIndex++ % FORMS.length] ?? 'POST';
  const collection = kind === 'Site' ? SITES : NODES;
  const existing = kind === 'Site' ? 'base-a' : 'base-node';
  const values = fields.map((f) => payload(getIn(template(kind, 'x'), f.path) as string, f));
  const spoiled = (name: string) => fields.reduce<Obj>((body, f, i) => setIn(body, f.path, values[i]), template(kind, name));
  const target = spoiled(existing);
  // A patch sets the whole spec, the labels and the annotations (a node's provider and hetzner must agree).
  const tops = ([['spec'], ['metadata', 'labels'], ['metadata', 'annotations']] as Segment[][]).filter((top) => getIn(target, top) !== undefined);
  const request: Omit<Case, 'name' | 'code' | 'reason'> =
    form === 'POST'
      ? { method: 'POST', path: collection, body: spoiled(freshName('inj')) }
      : form === 'PUT'
        ? { method: 'PUT', path: `${collection}/${existing}`, body: target }
        : form === 'merge patch'
          ? { method: 'PATCH', path: `${collection}/${existing}`, contentType: MERGE, body: tops.reduce<Obj>((patch, top) => setIn(patch, top, getIn(target, top)), {}) }
          : { method: 'PATCH', path: `${collection}/${existing}`, contentType: JSON_PATCH, body: tops.map((top) => ({ op: 'add', path: `/${top.join('/')}`, value: getIn(target, top) })) };
  // Hostile values must not come back in the answer (the error messages never echo input).
  const secrets = hostile ? values.filter((v): v is string => typeof v === 'string') : [];
  add({ name: `${label} (${form})`, ...request, code: 422, reason: 'Invalid', fields: fields.map((f) => fieldOf(f.path)), secrets });
}

for (const kind of ['Site', 'Node'] as const) {
  const fields = STRING_FIELDS.filter((f) => f.kind === kind);
  for (const [label, payload] of PAYLOADS) spoilCase(kind, fields, `${kind}: every string field with ${label}`, payload);
}
STRING_FIELDS.forEach((field, i) => {
  const [label, payload] = PAYLOADS[i % PAYLOADS.length] ?? ['path traversal', () => '../../etc/passwd'];
  spoilCase(field.kind, [field], `${field.kind} ${fieldOf(field.path)} alone with ${label}`, payload);
});

// 1b. Wrong types for every field: each kind of mistake once, for all fields of a type at the same time.
const fieldsAt = (kind: 'Site' | 'Node', ...paths: Segment[][]): Field[] => paths.map((path) => ({ kind, path }));
const SITE_STRINGS = STRING_FIELDS.filter((f) => f.kind === 'Site' && f.path[0] === 'spec');
const NODE_STRINGS = STRING_FIELDS.filter((f) => f.kind === 'Node' && f.path[0] === 'spec');
const SITE_INTEGERS = fieldsAt(
  'Site',
  ['spec', 'php', 'maxChildren'],
  ['spec', 'backup', 'retention', 'daily'],
  ['spec', 'backup', 'retention', 'weekly'],
  ['spec', 'backup', 'retention', 'monthly'],
  ['spec', 'releases', 'keep'],
);
const SITE_OBJECTS = fieldsAt('Site', ['spec', 'wordpress'], ['spec', 'code'], ['spec', 'php'], ['spec', 'resources'], ['spec', 'backup'], ['spec', 'drift'], ['spec', 'releases']);
const SITE_INNER_OBJECTS = fieldsAt('Site', ['spec', 'code', 'git'], ['spec', 'backup', 'retention'], ['metadata', 'labels'], ['metadata', 'annotations']);
const SITE_REQUIRED_LEAVES = fieldsAt(
  'Site',
  ['spec', 'domains'],
  ['spec', 'wordpress', 'version'],
  ['spec', 'wordpress', 'title'],
  ['spec', 'wordpress', 'adminUser'],
  ['spec', 'wordpress', 'adminEmail'],
  ['spec', 'code', 'git', 'url'],
  ['spec', 'code', 'git', 'ref'],
);
const WRONG_TYPES: ReadonlyArray<readonly ['Site' | 'Node', readonly Field[], string, unknown]> = [
  ['Site', SITE_STRINGS, 'every string field as a number', 42],
  ['Site', SITE_STRINGS, 'every string field as a boolean', true],
  ['Site', SITE_STRINGS, 'every string field as an array', ['x']],
  ['Site', SITE_STRINGS, 'every string field as an object', { value: 'x' }],
  ['Site', SITE_INTEGERS, 'every integer field as a string', '5'],
  ['Site', SITE_INTEGERS, 'every integer field as a fraction', 1.5],
  ['Site', SITE_INTEGERS, 'every integer field as a boolean', true],
  ['Site', SITE_OBJECTS, 'every object field as an array', []],
  ['Site', SITE_OBJECTS, 'every object field as a string', 'x'],
  ['Site', SITE_INNER_OBJECTS, 'every nested object as an array', [1]],
  ['Site', SITE_REQUIRED_LEAVES, 'every required field as null', null],
  ['Node', NODE_STRINGS, 'every string field as a number', 7],
  ['Node', NODE_STRINGS, 'every string field as an array', ['x']],
  ['Node', fieldsAt('Node', ['spec', 'unschedulable'], ['spec', 'labels'], ['spec', 'hetzner']), 'every non-string field as a string', 'yes'],
];
for (const [kind, fields, label, value] of WRONG_TYPES) spoilCase(kind, fields, `${kind}: ${label}`, () => clone(value), false);

// 2. Bad names, for both kinds.
const BAD_NAMES: ReadonlyArray<readonly [string, unknown]> = [
  ['upper case', 'Shop'],
  ['a leading digit', '1shop'],
  ['41 characters', `a${'b'.repeat(40)}`],
  ['an underscore', 'my_shop'],
  ['a dot', 'my.shop'],
  ['unicode', 'shöp'],
  ['the empty string', ''],
  ['a leading hyphen', '-shop'],
  ['a trailing hyphen', 'shop-'],
  ['a space', 'my shop'],
  ['path traversal', '../etc'],
  ['a trailing newline', 'shop\n'],
  ['a number', 42],
  ['an array', ['shop']],
];
const NODE_NAME_CHECKS = new Set(['upper case', 'a leading digit', '41 characters', 'a dot', 'a number']);
for (const [label, value] of BAD_NAMES) {
  invalid(`Site name with ${label}`, { method: 'POST', path: SITES, body: siteWith('x', ['metadata', 'name'], value) }, 'metadata.name');
  if (NODE_NAME_CHECKS.has(label)) invalid(`Node name with ${label}`, { method: 'POST', path: NODES, body: nodeWith('x', ['metadata', 'name'], value) }, 'metadata.name');
}
invalid('Site name missing (null)', { method: 'POST', path: SITES, body: siteWith('x', ['metadata', 'name'], null) }, 'metadata.name');
invalid('Node name missing', { method: 'POST', path: NODES, body: nodeWith('x', ['metadata', 'name'], undefined) }, 'metadata.name');
invalid('PUT to an invalid name (URL and body agree)', { method: 'PUT', path: `${SITES}/Bad_Name`, body: siteWith('x', ['metadata', 'name'], 'Bad_Name') }, 'metadata.name');
invalid('PUT node to an invalid name', { method: 'PUT', path: `${NODES}/node.one`, body: nodeWith('x', ['metadata', 'name'], 'node.one') }, 'metadata.name');

// 3. Bad domains.
const BAD_DOMAINS: ReadonlyArray<readonly [string, string]> = [
  ['upper case', 'Shop.example.test'],
  ['a single label', 'shop'],
  ['a leading hyphen', '-shop.example.test'],
  ['an empty label', 'shop..example.test'],
  ['a trailing dot', 'shop.example.test.'],
  ['a 64-character label', `${'a'.repeat(64)}.example.test`],
  ['254 characters', `${Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.')}.test`],
  ['an underscore', 'shop_1.example.test'],
  ['unicode', 'bücher.example.test'],
  ['a wildcard', '*.example.test'],
  ['a port', 'shop.example.test:80'],
  ['a scheme', 'http://shop.example.test'],
  ['the empty string', ''],
];
for (const [label, domain] of BAD_DOMAINS) {
  invalid(`domain with ${label}`, { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'domains'], [domain]) }, 'spec.domains[0]');
}
invalid('bad domain in second place', { method: 'PUT', path: `${SITES}/base-a`, body: siteWith('base-a', ['spec', 'domains'], ['base-a.example.test', 'BAD.example.test']) }, 'spec.domains[1]');
invalid('duplicate domain', { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'domains'], ['dup.example.test', 'dup.example.test']) }, 'spec.domains[1]');
invalid('no domains', { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'domains'], []) }, 'spec.domains');
invalid('51 domains', { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'domains'], Array.from({ length: 51 }, (_, i) => `d${i}.example.test`)) }, 'spec.domains');

// 4. Wrong types.
const SITE_WRONG_TYPES: ReadonlyArray<readonly [readonly Segment[], unknown, string]> = [
  [['spec', 'php', 'maxChildren'], '5', 'a string where an integer'],
  [['spec', 'php', 'maxChildren'], 5.5, 'a fraction where an integer'],
  [['spec', 'php', 'memoryLimit'], 256, 'a number where a size'],
  [['spec', 'backup', 'retention', 'daily'], '7', 'a string where an integer'],
  [['spec', 'wordpress', 'title'], 5, 'a number where a string'],
  [['spec', 'wordpress', 'version'], 6.1, 'an unquoted number where a version string'],
  [['spec', 'wordpress'], [], 'an array where an object'],
  [['spec', 'wordpress'], null, 'null where required'],
  [['spec', 'domains'], { 0: 'shop.example.test' }, 'an object where an array'],
  [['spec', 'domains'], 'shop.example.test', 'a string where an array'],
  [['spec', 'php'], [], 'an array where an object'],
  [['spec', 'backup', 'schedule'], 3, 'a number where a schedule'],
  [['spec', 'drift'], 'Observe', 'a string where an object'],
  [['spec', 'environment'], 1, 'a number where an enum'],
  [['spec', 'code', 'git'], 'https://git.example.test/shop.git', 'a string where an object'],
  [['spec'], [], 'an array where an object'],
  [['spec'], null, 'null where required'],
  [['spec'], undefined, 'missing'],
  [['metadata'], [], 'an array where an object'],
  [['metadata'], undefined, 'missing'],
  [['metadata', 'labels'], ['team=web'], 'an array where a map'],
  [['metadata', 'labels', 'team'], 5, 'a number as a label value'],
  [['metadata', 'labels', 'team'], `${'v'.repeat(64)}`, 'a 64-character label value'],
  [['metadata', 'annotations', 'note'], 5, 'a number as an annotation value'],
  [['metadata', 'finalizers', 0], 'bad finalizer!', 'an invalid finalizer'],
  [['metadata', 'resourceVersion'], 5, 'a number as resourceVersion'],
  [['metadata', 'namespace'], 'default', 'a namespace on a cluster-scoped kind'],
];
for (const [path, value, label] of SITE_WRONG_TYPES) {
  invalid(`Site ${fieldOf(path)}: ${label}`, { method: 'POST', path: SITES, body: siteWith(freshName(), path, value) }, fieldOf(path));
}
invalid('Site spec.domains: a number in the array', { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'domains'], [5]) }, 'spec.domains[0]');
invalid('Site metadata.labels with a bad key', { method: 'POST', path: SITES, body: siteWith(freshName(), ['metadata', 'labels'], { 'Team!': 'web' }) }, 'metadata.labels[Team!]');
invalid('Site annotations over 256 KiB', { method: 'POST', path: SITES, body: siteWith(freshName(), ['metadata', 'annotations'], { note: 'x'.repeat(300 * 1024) }) }, 'metadata.annotations');
invalid('Site resourceVersion that is not digits (PUT)', { method: 'PUT', path: `${SITES}/base-a`, body: siteWith('base-a', ['metadata', 'resourceVersion'], 'abc') }, 'metadata.resourceVersion');
invalid('Site resourceVersion set on create', { method: 'POST', path: SITES, body: siteWith(freshName(), ['metadata', 'resourceVersion'], '1') }, 'metadata.resourceVersion');

const NODE_WRONG_TYPES: ReadonlyArray<readonly [readonly Segment[], unknown, string, NodeTemplate?]> = [
  [['spec', 'unschedulable'], 'false', 'a string where a boolean'],
  [['spec', 'provider'], 'aws', 'an unknown provider'],
  [['spec', 'provider'], null, 'null where required'],
  [['spec', 'labels'], [], 'an array where a map'],
  [['spec', 'address'], 3405803786, 'a number where an address', 'static'],
  [['spec', 'address'], '999.1.1.1', 'an out-of-range address', 'static'],
  [['spec', 'address'], '::1', 'an IPv6 address', 'static'],
  [['spec', 'hetzner'], 'cx22', 'a string where an object', 'hetzner'],
  [['spec', 'hetzner'], undefined, 'missing for provider hetzner', 'hetzner'],
  [['spec', 'hetzner'], { serverType: 'cx22', location: 'fsn1', image: 'ubuntu-24.04' }, 'given for provider local'],
  [['spec', 'hetzner', 'location'], 'mars', 'an unknown location', 'hetzner'],
  [['spec'], [], 'an array where an object'],
  [['spec'], null, 'null where required'],
];
for (const [path, value, label, template] of NODE_WRONG_TYPES) {
  invalid(`Node ${fieldOf(path)}: ${label}`, { method: 'POST', path: NODES, body: nodeWith(freshName(), path, value, template) }, fieldOf(path));
}

// 5. Unknown fields at several depths (Strict is the default fieldValidation).
const UNKNOWN_FIELDS: ReadonlyArray<readonly ['Site' | 'Node', readonly Segment[], string?]> = [
  ['Site', ['color']],
  ['Site', ['metadata', 'color']],
  ['Site', ['spec', 'color']],
  ['Site', ['spec', 'wordpress', 'plugins']],
  ['Site', ['spec', 'backup', 'retention', 'hourly']],
  ['Site', ['spec', 'domain'], 'a misspelt field'],
  ['Site', ['spec', 'wordpress', 'adminPassword'], 'a secret the spec must never hold'],
  ['Node', ['color']],
  ['Node', ['spec', 'region']],
  ['Node', ['spec', 'hetzner', 'datacenter']],
];
for (const [kind, path, label] of UNKNOWN_FIELDS) {
  const collection = kind === 'Site' ? SITES : NODES;
  const base = kind === 'Site' ? fullSite(freshName()) : node(freshName(), path.includes('hetzner') ? 'hetzner' : 'local');
  badRequest(`${kind} unknown field ${fieldOf(path)}${label ? ` (${label})` : ''}`, { method: 'POST', path: collection, body: setIn(base, path, 'x') }, fieldOf(path));
}
badRequest('unknown field with explicit fieldValidation=Strict (PUT)', { method: 'PUT', path: `${SITES}/base-a?fieldValidation=Strict`, body: siteWith('base-a', ['spec', 'colour'], 'red') }, 'spec.colour');
badRequest('unknown field through a merge patch', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: { spec: { wordpress: { theme: 'twentytwenty' } } } }, 'spec.wordpress.theme');
badRequest('unknown field through a JSON patch', { method: 'PATCH', path: `${NODES}/base-node`, contentType: JSON_PATCH, body: [{ op: 'add', path: '/spec/zone', value: 'a' }] }, 'spec.zone');
badRequest('a __proto__ member', { method: 'POST', path: SITES, raw: JSON.stringify(site(freshName())).replace('"spec":{', '"spec":{"__proto__":{"x":1},') }, 'spec.__proto__');

// 6. Missing required fields.
const SITE_REQUIRED: ReadonlyArray<readonly Segment[]> = [
  ['spec', 'domains'],
  ['spec', 'wordpress'],
  ['spec', 'wordpress', 'version'],
  ['spec', 'wordpress', 'title'],
  ['spec', 'wordpress', 'adminEmail'],
  ['spec', 'code', 'git', 'url'],
];
for (const path of SITE_REQUIRED) {
  invalid(`Site without ${fieldOf(path)}`, { method: 'POST', path: SITES, body: setIn(fullSite(freshName()), path, undefined) }, fieldOf(path));
}
invalid('Site code without git', { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'code'], {}) }, 'spec.code.git');
invalid('Node without spec.provider', { method: 'POST', path: NODES, body: nodeWith(freshName(), ['spec', 'provider'], undefined) }, 'spec.provider');
invalid('Node hetzner without image', { method: 'POST', path: NODES, body: nodeWith(freshName(), ['spec', 'hetzner', 'image'], undefined, 'hetzner') }, 'spec.hetzner.image');
badRequest('Site without apiVersion', { method: 'POST', path: SITES, body: siteWith(freshName(), ['apiVersion'], undefined) }, 'apiVersion');
badRequest('Site without kind', { method: 'POST', path: SITES, body: siteWith(freshName(), ['kind'], undefined) }, 'kind');

// 7. Out-of-range numbers and quantities (1G = 1024M is a valid memoryLimit: 32M..4G).
const OUT_OF_RANGE: ReadonlyArray<readonly [readonly Segment[], unknown]> = [
  [['spec', 'php', 'maxChildren'], 0],
  [['spec', 'php', 'maxChildren'], 1000],
  [['spec', 'php', 'maxChildren'], 1e21],
  [['spec', 'php', 'memoryLimit'], '16M'],
  [['spec', 'php', 'memoryLimit'], '5G'],
  [['spec', 'php', 'memoryLimit'], '256m'],
  [['spec', 'php', 'memoryLimit'], '256MB'],
  [['spec', 'php', 'uploadMaxSize'], '5G'],
  [['spec', 'resources', 'cpu'], '0%'],
  [['spec', 'resources', 'cpu'], '801%'],
  [['spec', 'resources', 'cpu'], '50'],
  [['spec', 'resources', 'memory'], '32Mi'],
  [['spec', 'resources', 'memory'], '65Gi'],
  [['spec', 'resources', 'memory'], '512M'],
  [['spec', 'releases', 'keep'], 51],
];
for (const [path, value] of OUT_OF_RANGE) {
  invalid(`Site ${fieldOf(path)} = ${JSON.stringify(value)}`, { method: 'POST', path: SITES, body: siteWith(freshName(), path, value) }, fieldOf(path));
}

// 8. Bad cron schedules.
const BAD_CRON = [
  '0 3 * *',
  '0 3 * * * *',
  '60 3 * * *',
  '0 3 32 * *',
  '0 3 * 13 *',
  '*/0 * * * *',
  '5/15 * * * *',
  '10-5 * * * *',
  '@reboot',
  '@every 1h',
  '',
  '0 3 * * *\n',
  `0 3 ${'1,'.repeat(60)}1 * *`,
];
for (const schedule of BAD_CRON) {
  invalid(`cron ${JSON.stringify(schedule.slice(0, 30))}`, { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'backup', 'schedule'], schedule) }, 'spec.backup.schedule');
}

// 9. Bad retention.
const BAD_RETENTION: ReadonlyArray<readonly [readonly Segment[], unknown]> = [
  [['spec', 'backup', 'retention', 'daily'], -1],
  [['spec', 'backup', 'retention', 'daily'], 366],
  [['spec', 'backup', 'retention', 'weekly'], 105],
  [['spec', 'backup', 'retention', 'monthly'], 121],
  [['spec', 'backup', 'retention'], 7],
];
for (const [path, value] of BAD_RETENTION) {
  invalid(`retention ${fieldOf(path)} = ${JSON.stringify(value)}`, { method: 'PUT', path: `${SITES}/base-b`, body: siteWith('base-b', path, value) }, fieldOf(path));
}

// 10. Oversize bodies (the limit is 1 MiB).
const oversize = (name: string) => JSON.stringify(siteWith(name, ['metadata', 'annotations'], { note: 'x'.repeat(MIB + 1024) }));
add({ name: 'oversize JSON body (POST)', method: 'POST', path: SITES, raw: oversize(freshName()), code: 413, reason: 'RequestEntityTooLarge' });
add({ name: 'oversize YAML body (PUT)', method: 'PUT', path: `${SITES}/base-a`, raw: `# ${'x'.repeat(MIB + 16)}\n`, contentType: 'application/yaml', code: 413, reason: 'RequestEntityTooLarge' });
add({ name: 'oversize merge patch', method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, raw: JSON.stringify({ metadata: { annotations: { note: 'y'.repeat(2 * MIB) } } }), code: 413, reason: 'RequestEntityTooLarge' });
add({ name: 'oversize node (PUT)', method: 'PUT', path: `${NODES}/base-node`, raw: JSON.stringify(nodeWith('base-node', ['metadata', 'annotations'], { note: 'z'.repeat(MIB) })), code: 413, reason: 'RequestEntityTooLarge' });

// 11. Bad YAML (PUT and POST accept application/yaml).
const validYaml = (name: string) => readFileSync(resolve(__dirname, '../../../../examples/site.yaml'), 'utf8').replace('name: shop', `name: ${name}`).replace('shop.example.test', `${name}.example.test`);
const BAD_YAML: ReadonlyArray<readonly [string, string]> = [
  ['an unclosed flow mapping', 'apiVersion: pressluft.io/v1\nkind: Site\nmetadata: {name: base-a\n'],
  ['tab indentation', 'apiVersion: pressluft.io/v1\nkind: Site\nmetadata:\n\tname: base-a\n'],
  ['two documents', `${validYaml('base-a')}---\n${validYaml('base-a')}`],
  ['an alias', `${validYaml('base-a')}x: &a [1]\ny: *a\n`],
  ['an exponential alias bomb', 'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b]\nd: [*c,*c,*c,*c]\n'],
  ['a plain scalar', 'just some text'],
  ['a list', '- apiVersion: pressluft.io/v1\n- kind: Site\n'],
  ['null', '~\n'],
  ['flow sequences nested 10000 levels deep', `apiVersion: pressluft.io/v1\nkind: Site\nmetadata: {name: base-a}\nspec: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`],
];
for (const [label, yaml] of BAD_YAML) {
  badRequest(`YAML with ${label}`, { method: 'PUT', path: `${SITES}/base-a`, raw: yaml, contentType: 'application/yaml' });
}
badRequest('YAML with a duplicate top-level key', { method: 'PUT', path: `${SITES}/base-a`, raw: `${validYaml('base-a')}kind: Site\n`, contentType: 'application/yaml' }, 'kind');
badRequest('YAML with a duplicate nested key', { method: 'POST', path: SITES, raw: validYaml(freshName()).replace('title: Shop', 'title: Shop\n    title: Other'), contentType: 'application/yaml' }, 'spec.wordpress.title');
invalid('YAML with an unquoted version (a number)', { method: 'PUT', path: `${SITES}/base-a`, raw: validYaml('base-a').replace('version: "6.1"', 'version: 6.10'), contentType: 'application/yaml' }, 'spec.wordpress.version');
invalid('YAML with a scalar where the domain list goes', { method: 'POST', path: SITES, raw: validYaml(freshName()).replace(/domains: \[(.*)\]/, 'domains: $1'), contentType: 'application/yaml' }, 'spec.domains');
invalid('YAML (text/yaml) with a hostile title', { method: 'POST', path: SITES, raw: validYaml(freshName()).replace('title: Shop', 'title: "Shop; rm -rf /"'), contentType: 'text/yaml' }, 'spec.wordpress.title');

// 12. Bad JSON.
const deep = (depth: number) =>
  `{"apiVersion":"pressluft.io/v1","kind":"Site","metadata":{"name":"deep"},"spec":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
const BAD_JSON: ReadonlyArray<readonly [string, string]> = [
  ['an unterminated object', '{'],
  ['a missing value', '{"apiVersion":}'],
  ['single quotes', "{'apiVersion':'pressluft.io/v1'}"],
  ['trailing garbage', `${JSON.stringify(site(freshName()))}x`],
  ['a byte-order mark', `\uFEFF${JSON.stringify(site(freshName()))}`],
  ['NaN', '{"apiVersion":"pressluft.io/v1","kind":"Site","spec":{"php":{"maxChildren":NaN}}}'],
  ['null', 'null'],
  ['an array', '[]'],
  ['the empty body', ''],
  ['an invalid UTF-8 sequence', '{"apiVersion":"\xff\xfe"}'],
];
for (const [label, raw] of BAD_JSON) badRequest(`JSON with ${label}`, { method: 'POST', path: SITES, raw });
// 10 000 levels are a 50 KB body: a BadRequest like any body that cannot be handled, never a crash (500).
badRequest('JSON nested 10000 levels deep', { method: 'POST', path: SITES, raw: deep(10_000) });
badRequest('merge patch nested 10000 levels deep', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, raw: `{"spec":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}` });
badRequest('JSON patch with a value nested 10000 levels deep', { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, raw: `[{"op":"add","path":"/spec/x","value":${'['.repeat(10_000)}${']'.repeat(10_000)}}]` });
badRequest('bad JSON in a merge patch', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, raw: '{"spec":' });
badRequest('bad JSON in a JSON patch', { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, raw: '[{"op":"add",' });
badRequest('bad JSON on PUT', { method: 'PUT', path: `${NODES}/base-node`, raw: '{"kind":"Node"' });
badRequest('bad JSON in delete options', { method: 'DELETE', path: `${SITES}/base-a`, raw: '{"preconditions":' });
// Strict decoding (kube-apiserver's strict field validation): a key twice in one object is refused
// with its path, whichever body carries it; JSON.parse alone would keep the last one.
const twice = (json: string, inside: string, key: string, first: string) => json.replace(`"${inside}":{`, `"${inside}":{"${key}":${first},`);
badRequest('JSON with a duplicate top-level key', { method: 'POST', path: SITES, raw: JSON.stringify(site(freshName())).replace('{"apiVersion"', '{"kind":"Node","apiVersion"') }, 'kind');
badRequest('JSON with a duplicate nested key', { method: 'POST', path: SITES, raw: twice(JSON.stringify(site(freshName())), 'wordpress', 'title', '"First"') }, 'spec.wordpress.title');
badRequest('JSON with a duplicate metadata.name', { method: 'PUT', path: `${SITES}/base-a`, raw: twice(JSON.stringify(site('base-a')), 'metadata', 'name', '"base-a"') }, 'metadata.name');
badRequest('merge patch with a duplicate key', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, raw: '{"spec":{"php":{"memoryLimitMb":128,"memoryLimitMb":256}}}' }, 'spec.php.memoryLimitMb');
badRequest('JSON patch with a duplicate key in an operation', { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, raw: '[{"op":"add","op":"remove","path":"/metadata/labels/x","value":"y"}]' }, '[0].op');
badRequest('token request with a duplicate key', { method: 'POST', path: TOKENS, raw: '{"subject":"ci","role":"viewer","role":"admin"}' }, 'role');
badRequest('delete options with a duplicate key', { method: 'DELETE', path: `${SITES}/base-a`, raw: '{"preconditions":{"uid":"a","uid":"b"}}' }, 'preconditions.uid');

// 13. Bad content types.
const validSiteJson = () => JSON.stringify(site(freshName()));
const BAD_TYPES: ReadonlyArray<readonly [Method, string, string]> = [
  ['POST', SITES, 'text/plain'],
  ['POST', SITES, 'application/xml'],
  ['POST', SITES, 'application/x-www-form-urlencoded'],
  ['POST', SITES, MERGE],
  ['POST', NODES, 'text/html'],
  ['PUT', `${SITES}/base-a`, 'text/plain'],
  ['PATCH', `${SITES}/base-a`, 'application/json'],
  ['PATCH', `${SITES}/base-a`, 'application/strategic-merge-patch+json'],
  ['PATCH', `${SITES}/base-a`, 'application/apply-patch+yaml'],
  ['DELETE', `${SITES}/base-a`, 'text/plain'],
];
for (const [method, path, contentType] of BAD_TYPES) {
  const raw = method === 'PATCH' ? '{"metadata":{"labels":{"x":"y"}}}' : method === 'DELETE' ? '{}' : path.startsWith(NODES) ? JSON.stringify(node(freshName())) : validSiteJson();
  add({ name: `${method} with Content-Type ${contentType}`, method, path, raw, contentType, code: 415, reason: 'UnsupportedMediaType' });
}
// Content-Encoding: gzip, deflate and br are inflated (within the same size limit); anything else, or
// a body that does not decode as declared, is the client's error, never a 500.
const gzipped = (text: string) => gzipSync(Buffer.from(text));
badRequest('POST declared br that is not brotli', { method: 'POST', path: SITES, raw: JSON.stringify(site(freshName())), headers: { 'content-encoding': 'br' } });
add({ name: 'POST with an unknown Content-Encoding', method: 'POST', path: SITES, raw: JSON.stringify(site(freshName())), headers: { 'content-encoding': 'x-pressluft' }, code: 415, reason: 'UnsupportedMediaType' });
badRequest('POST declared gzip that is not gzip', { method: 'POST', path: SITES, raw: JSON.stringify(site(freshName())), headers: { 'content-encoding': 'gzip' } });
badRequest('PATCH declared deflate that is not deflate', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, raw: '{"metadata":{"labels":{"x":"y"}}}', headers: { 'content-encoding': 'deflate' } });
badRequest('POST gzip holding bad JSON', { method: 'POST', path: SITES, raw: gzipped('{"kind":'), headers: { 'content-encoding': 'gzip' } });
// Refused by Node's parser before the app: still a Status.
add({ name: 'a request head over 16 KiB', method: 'GET', path: SITES, headers: { 'x-pad': 'a'.repeat(20_000) }, code: 431, reason: 'RequestHeaderFieldsTooLarge' });
add({ name: 'POST gzip that inflates past the size limit', method: 'POST', path: SITES, raw: gzipped(' '.repeat(4 * MIB)), headers: { 'content-encoding': 'gzip' }, code: 413, reason: 'RequestEntityTooLarge' });
add({ name: 'POST without a Content-Type', method: 'POST', path: SITES, raw: validSiteJson(), noContentType: true, code: 415, reason: 'UnsupportedMediaType' });
add({ name: 'PATCH without a Content-Type', method: 'PATCH', path: `${SITES}/base-a`, raw: '{"metadata":{"labels":{"x":"y"}}}', noContentType: true, code: 415, reason: 'UnsupportedMediaType' });

// 14. Conflicts and missing objects.
add({ name: 'PUT with a stale resourceVersion', method: 'PUT', path: `${SITES}/base-a`, body: siteWith('base-a', ['metadata', 'resourceVersion'], '1'), code: 409, reason: 'Conflict' });
add({ name: 'PUT with a future resourceVersion', method: 'PUT', path: `${SITES}/base-a`, body: siteWith('base-a', ['metadata', 'resourceVersion'], '999999999'), code: 409, reason: 'Conflict' });
add({ name: 'PUT node with a stale resourceVersion', method: 'PUT', path: `${NODES}/base-node`, body: setIn(nodeWith('base-node', ['spec', 'unschedulable'], true), ['metadata', 'resourceVersion'], '1'), code: 409, reason: 'Conflict' });
add({ name: 'merge patch with a stale resourceVersion', method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: { metadata: { resourceVersion: '1' }, spec: { wordpress: { title: 'Stale' } } }, code: 409, reason: 'Conflict' });
add({ name: 'DELETE with a stale resourceVersion precondition', method: 'DELETE', path: `${SITES}/base-a`, body: { preconditions: { resourceVersion: '1' } }, code: 409, reason: 'Conflict' });
// Kubernetes refuses DeleteOptions it cannot decode (400); a precondition of the wrong type must not be dropped silently.
badRequest('DELETE with a numeric resourceVersion precondition', { method: 'DELETE', path: `${SITES}/base-d`, body: { preconditions: { resourceVersion: 1 } } }, 'preconditions.resourceVersion');
badRequest('DELETE with preconditions that are not an object', { method: 'DELETE', path: `${SITES}/base-e`, body: { preconditions: 'x' } }, 'preconditions');
add({ name: 'DELETE with a wrong uid precondition', method: 'DELETE', path: `${SITES}/base-a`, body: { preconditions: { uid: randomUUID() } }, code: 409, reason: 'Conflict' });
// metadata.uid is a precondition (Kubernetes): another object's uid is a conflict, never a change of uid.
add({ name: 'PUT with another uid', method: 'PUT', path: `${SITES}/base-a`, body: siteWith('base-a', ['metadata', 'uid'], randomUUID()), code: 409, reason: 'Conflict' });
add({ name: 'merge patch changing the uid', method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: { metadata: { uid: randomUUID() }, spec: { wordpress: { title: 'Other' } } }, code: 409, reason: 'Conflict' });
add({ name: 'JSON patch replacing the uid', method: 'PATCH', path: `${NODES}/base-node`, contentType: JSON_PATCH, body: [{ op: 'replace', path: '/metadata/uid', value: randomUUID() }], code: 409, reason: 'Conflict' });
const neverCreated = `never-${randomBytes(3).toString('hex')}`;
add({ name: 'PUT with a uid for an object that does not exist', method: 'PUT', path: `${SITES}/${neverCreated}`, body: siteWith(neverCreated, ['metadata', 'uid'], randomUUID()), code: 404, reason: 'NotFound' });
invalid('PUT with a uid that is no UID', { method: 'PUT', path: `${SITES}/base-a`, body: siteWith('base-a', ['metadata', 'uid'], '../x') }, 'metadata.uid');
add({ name: 'POST a site name that is taken', method: 'POST', path: SITES, body: site('base-a'), code: 409, reason: 'AlreadyExists' });
add({ name: 'POST a node name that is taken', method: 'POST', path: NODES, body: node('base-node'), code: 409, reason: 'AlreadyExists' });
add({ name: 'PUT with a resourceVersion to an absent site', method: 'PUT', path: `${SITES}/ghost`, body: siteWith('ghost', ['metadata', 'resourceVersion'], '5'), code: 404, reason: 'NotFound' });
add({ name: 'PATCH an absent site', method: 'PATCH', path: `${SITES}/ghost`, contentType: MERGE, body: { spec: { wordpress: { title: 'Ghost' } } }, code: 404, reason: 'NotFound' });
add({ name: 'DELETE an absent site', method: 'DELETE', path: `${SITES}/ghost`, code: 404, reason: 'NotFound' });

// 14b. A domain another site holds (unique across sites): 409 naming the field, also in a dry run.
const takenDomain = (name: string, c: Omit<Case, 'name' | 'code' | 'reason' | 'fields'>, field: string) => add({ name, ...c, code: 409, reason: 'Conflict', fields: [field] });
const TAKEN = ['base-c.example.test', 'base-b.example.test'];
takenDomain('POST a site with a domain another site holds', { method: 'POST', path: SITES, body: siteWith(freshName('dom'), ['spec', 'domains'], ['free-1.example.test', 'base-b.example.test']) }, 'spec.domains[1]');
takenDomain('POST a dry run with a domain another site holds', { method: 'POST', path: `${SITES}?dryRun=All`, body: siteWith(freshName('dom'), ['spec', 'domains'], ['base-b.example.test']) }, 'spec.domains[0]');
takenDomain('PUT-create a site with a domain another site holds', { method: 'PUT', path: `${SITES}/dom-put`, body: siteWith('dom-put', ['spec', 'domains'], TAKEN) }, 'spec.domains[0]');
takenDomain('PUT a site adding a domain another site holds', { method: 'PUT', path: `${SITES}/base-a`, body: siteWith('base-a', ['spec', 'domains'], ['base-a.example.test', 'base-b.example.test']) }, 'spec.domains[1]');
takenDomain('PUT a site swapping its domain for one another site holds', { method: 'PUT', path: `${SITES}/base-a`, body: siteWith('base-a', ['spec', 'domains'], ['base-e.example.test']) }, 'spec.domains[0]');
takenDomain('merge patch adding a domain another site holds', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: { spec: { domains: ['base-a.example.test', 'base-d.example.test'] } } }, 'spec.domains[1]');
takenDomain('JSON patch adding a domain another site holds', { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, body: [{ op: 'add', path: '/spec/domains/-', value: 'base-b.example.test' }] }, 'spec.domains[1]');
takenDomain('JSON patch dry run replacing a domain with a held one', { method: 'PATCH', path: `${SITES}/base-a?dryRun=All`, contentType: JSON_PATCH, body: [{ op: 'replace', path: '/spec/domains/0', value: 'base-c.example.test' }] }, 'spec.domains[0]');

// 15. The name on the URL and in the body disagree.
badRequest('PUT site: URL and body name differ', { method: 'PUT', path: `${SITES}/base-a`, body: site('base-b') }, 'metadata.name');
badRequest('PUT site to a new name: URL and body name differ', { method: 'PUT', path: `${SITES}/brand-new`, body: site('other-new') }, 'metadata.name');
badRequest('PUT node: URL and body name differ', { method: 'PUT', path: `${NODES}/base-node`, body: node('other-node') }, 'metadata.name');
badRequest('merge patch renaming the object', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: { metadata: { name: 'renamed' } } }, 'metadata.name');
badRequest('JSON patch renaming the object', { method: 'PATCH', path: `${NODES}/base-node`, contentType: JSON_PATCH, body: [{ op: 'replace', path: '/metadata/name', value: 'renamed' }] }, 'metadata.name');

// 16. Wrong apiVersion or kind.
const ENVELOPES: ReadonlyArray<readonly [string, string, Obj, string[]]> = [
  ['apiVersion v1', SITES, { apiVersion: 'v1' }, ['apiVersion']],
  ['apiVersion pressluft.io/v2', SITES, { apiVersion: 'pressluft.io/v2' }, ['apiVersion']],
  ['a numeric apiVersion', SITES, { apiVersion: 1 }, ['apiVersion']],
  ['kind Node on sites', SITES, { kind: 'Node' }, ['kind']],
  ['kind site (lower case)', SITES, { kind: 'site' }, ['kind']],
  ['kind Site on nodes', NODES, { kind: 'Site' }, ['kind']],
  ['both wrong', NODES, { apiVersion: 'v1', kind: 'Pod' }, ['apiVersion', 'kind']],
];
for (const [label, path, envelope, fields] of ENVELOPES) {
  badRequest(`POST with ${label}`, { method: 'POST', path, body: { ...(path === SITES ? site(freshName()) : node(freshName())), ...envelope } }, ...fields);
}
badRequest('PUT with kind Node on a site', { method: 'PUT', path: `${SITES}/base-a`, body: { ...site('base-a'), kind: 'Node' } }, 'kind');
badRequest('merge patch changing kind', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: { kind: 'Node' } }, 'kind');
badRequest('merge patch changing apiVersion', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: { apiVersion: 'v1' } }, 'apiVersion');
badRequest('JSON patch removing kind', { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, body: [{ op: 'remove', path: '/kind' }] }, 'kind');

// 17. Malformed JSON patches (all or nothing: a good operation before a bad one changes nothing).
const BAD_JSON_PATCHES: ReadonlyArray<readonly [string, unknown, string]> = [
  ['an object instead of a list', { op: 'replace', path: '/spec/wordpress/title', value: 'X' }, 'patch'],
  ['an empty operation', [{}], 'patch[0].op'],
  ['an unknown op', [{ op: 'frobnicate', path: '/spec' }], 'patch[0].op'],
  ['a missing path', [{ op: 'add', value: 1 }], 'patch[0].path'],
  ['a path without a leading slash', [{ op: 'add', path: 'spec/x', value: 1 }], 'patch[0].path'],
  ['a bad ~ escape', [{ op: 'add', path: '/metadata/labels/a~2b', value: 'x' }], 'patch[0].path'],
  ['replace without a value', [{ op: 'replace', path: '/spec/wordpress/title' }], 'patch[0].value'],
  ['remove of a missing member', [{ op: 'remove', path: '/spec/nope' }], 'patch[0].path'],
  ['a failing test', [{ op: 'test', path: '/spec/wordpress/title', value: 'Not the title' }], 'patch[0].value'],
  ['a test of a stale resourceVersion', [{ op: 'test', path: '/metadata/resourceVersion', value: '1' }], 'patch[0].value'],
  ['a move into itself', [{ op: 'move', from: '/spec', path: '/spec/inner' }], 'patch[0].path'],
  ['a copy from a missing member', [{ op: 'copy', from: '/spec/nope', path: '/spec/x' }], 'patch[0].from'],
  ['an index out of bounds', [{ op: 'add', path: '/spec/domains/5', value: 'x.example.test' }], 'patch[0].path'],
  ['a path into status', [{ op: 'replace', path: '/status/phase', value: 'ACTIVE' }], 'patch[0].path'],
  ['a bad second operation', [{ op: 'replace', path: '/spec/wordpress/title', value: 'Half' }, { op: 'jump', path: '/spec' }], 'patch[1].op'],
];
for (const [label, patch, field] of BAD_JSON_PATCHES) {
  invalid(`JSON patch with ${label}`, { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, body: patch }, field);
}
invalid('JSON patch producing a bad domain', { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, body: [{ op: 'replace', path: '/spec/domains/0', value: 'BAD' }] }, 'spec.domains[0]');
invalid('JSON patch removing the only domain', { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, body: [{ op: 'remove', path: '/spec/domains/0' }] }, 'spec.domains');
badRequest('JSON patch removing the whole document', { method: 'PATCH', path: `${SITES}/base-a`, contentType: JSON_PATCH, body: [{ op: 'remove', path: '' }] });

// 18. Merge patches that produce an invalid object.
const BAD_MERGES: ReadonlyArray<readonly [string, string, Obj, string]> = [
  ['removing domains', SITES, { spec: { domains: null } }, 'spec.domains'],
  ['removing wordpress', SITES, { spec: { wordpress: null } }, 'spec.wordpress'],
  ['removing the whole spec', SITES, { spec: null }, 'spec'],
  ['removing the name', SITES, { metadata: { name: null } }, 'metadata.name'],
  ['a hostile title', SITES, { spec: { wordpress: { title: '<script>alert(1)</script>' } } }, 'spec.wordpress.title'],
  ['maxChildren 0', SITES, { spec: { php: { maxChildren: 0 } } }, 'spec.php.maxChildren'],
  ['a bad label key', SITES, { metadata: { labels: { 'bad key': 'x' } } }, 'metadata.labels[bad key]'],
  ['a clone of itself', SITES, { spec: { source: { clone: { site: 'base-a' } } } }, 'spec.source.clone.site'],
  ['a bad backup schedule', SITES, { spec: { backup: { schedule: '61 * * * *' } } }, 'spec.backup.schedule'],
  ['provider hetzner without hetzner', NODES, { spec: { provider: 'hetzner' } }, 'spec.hetzner'],
  ['removing the provider', NODES, { spec: { provider: null } }, 'spec.provider'],
];
for (const [label, collection, patch, field] of BAD_MERGES) {
  invalid(`merge patch ${label}`, { method: 'PATCH', path: `${collection}/${collection === SITES ? 'base-a' : 'base-node'}`, contentType: MERGE, body: patch }, field);
}
badRequest('merge patch that is a list', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: [{ spec: {} }] });
badRequest('merge patch that is a string', { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: 'spec' });

// 19. Authentication and authorisation.
const AUTH: ReadonlyArray<readonly [Who, Method, string, unknown?, string?]> = [
  ['none', 'POST', SITES, site('auth-new')],
  ['none', 'PUT', `${SITES}/base-a`, site('base-a')],
  ['none', 'PATCH', `${SITES}/base-a`, { spec: { wordpress: { title: 'Anon' } } }, MERGE],
  ['none', 'DELETE', `${SITES}/base-a`],
  ['none', 'GET', SITES],
  ['none', 'GET', `${SITES}?watch=true`],
  ['none', 'POST', NODES, node('auth-node')],
  ['none', 'GET', TOKENS],
  ['none', 'POST', TOKENS, { subject: 'mallory', role: 'admin' }],
  ['malformed', 'POST', SITES, site('auth-new')],
  ['basic', 'DELETE', `${SITES}/base-b`],
  ['empty-bearer', 'PUT', `${SITES}/base-a`, site('base-a')],
  ['unknown', 'PUT', `${SITES}/base-a`, site('base-a')],
  ['revoked', 'PATCH', `${SITES}/base-a`, { spec: { wordpress: { title: 'Revoked' } } }, MERGE],
  ['revoked', 'POST', TOKENS, { subject: 'mallory', role: 'admin' }],
  ['revoked', 'GET', `${NODES}/base-node`],
  ['admin+junk', 'DELETE', `${NODES}/base-node`],
];
for (const [who, method, path, body, contentType] of AUTH) {
  add({ name: `${who} token: ${method} ${path}${contentType ? ` (${contentType})` : ''}`, who, method, path, ...(body === undefined ? {} : { body }), ...(contentType ? { contentType } : {}), code: 401, reason: 'Unauthorized' });
}
const FORBIDDEN: ReadonlyArray<readonly [Who, Method, string | (() => string), unknown?, string?]> = [
  ['viewer', 'POST', SITES, site('viewer-new')],
  ['viewer', 'POST', SITES, siteWith('viewer-bad', ['spec', 'domains'], ['NOT A DOMAIN'])],
  ['viewer', 'PUT', `${SITES}/base-a`, site('base-a')],
  ['viewer', 'PATCH', `${SITES}/base-a`, { spec: { wordpress: { title: 'Viewer' } } }, MERGE],
  ['viewer', 'DELETE', `${SITES}/base-a`],
  ['viewer', 'POST', NODES, node('viewer-node')],
  ['viewer', 'PATCH', `${NODES}/base-node`, { spec: { unschedulable: true } }, MERGE],
  ['viewer', 'DELETE', `${NODES}/base-node`],
  ['viewer', 'POST', TOKENS, { subject: 'vera2', role: 'admin' }],
  ['viewer', 'GET', TOKENS],
  ['operator', 'POST', NODES, node('operator-node')],
  ['operator', 'PUT', `${NODES}/base-node`, nodeWith('base-node', ['spec', 'unschedulable'], true)],
  ['operator', 'PUT', `${NODES}/operator-new`, node('operator-new')],
  ['operator', 'PATCH', `${NODES}/base-node`, { spec: { unschedulable: true } }, MERGE],
  ['operator', 'DELETE', `${NODES}/base-node`],
  ['operator', 'POST', TOKENS, { subject: 'olga2', role: 'admin' }],
  ['operator', 'DELETE', () => `${TOKENS}/${tokenIds.viewer}`],
  ['operator', 'GET', TOKENS],
];
for (const [who, method, path, body, contentType] of FORBIDDEN) {
  const label = typeof path === 'string' ? path : `${TOKENS}/<viewer's token id>`;
  const variant = contentType ? ` (${contentType})` : who === 'viewer' && method === 'POST' && path === SITES && JSON.stringify(body).includes('NOT A DOMAIN') ? ' (and a bad body)' : '';
  add({ name: `${who} token: ${method} ${label}${variant}`, who, method, path, ...(body === undefined ? {} : { body }), ...(contentType ? { contentType } : {}), code: 403, reason: 'Forbidden' });
}

// 20. Bad query parameters.
const BAD_QUERIES: ReadonlyArray<readonly [string, string, Method?, unknown?]> = [
  [`${SITES}?labelSelector=${encodeURIComponent('===')}`, 'labelSelector'],
  [`${SITES}?labelSelector=${encodeURIComponent('team in (web')}`, 'labelSelector'],
  [`${SITES}?labelSelector=${encodeURIComponent('team=web!')}`, 'labelSelector'],
  [`${SITES}?labelSelector=${encodeURIComponent('!')}`, 'labelSelector'],
  [`${SITES}?labelSelector=${encodeURIComponent('team;rm -rf /')}`, 'labelSelector'],
  [`${SITES}?labelSelector=${'a'.repeat(5000)}`, 'labelSelector'],
  [`${SITES}?labelSelector=a&labelSelector=b`, 'labelSelector'],
  [`${SITES}?limit=-1`, 'limit'],
  [`${SITES}?limit=0`, 'limit'],
  [`${SITES}?limit=10001`, 'limit'],
  [`${SITES}?watch=maybe`, 'watch'],
  [`${SITES}?timeoutSeconds=0`, 'timeoutSeconds'],
  [`${SITES}?watch=true&timeoutSeconds=-5`, 'timeoutSeconds'],
  [`${SITES}?resourceVersion=abc`, 'resourceVersion'],
  [`${SITES}?continue=garbage`, 'continue'],
  [`${SITES}?fieldSelector=${encodeURIComponent('spec.nodeName=local')}`, 'fieldSelector'],
  [`${SITES}?involvedObject=sites/base-a`, 'involvedObject'],
  [`${API}/events?involvedObject=garbage`, 'involvedObject'],
  [`${API}/commands?site=BAD_NAME`, 'site'],
  [`${SITES}?fieldValidation=Bogus`, 'fieldValidation', 'POST', site('query-new')],
  [`${SITES}/base-a?fieldValidation=strict`, 'fieldValidation', 'PUT', siteWith('base-a', ['spec', 'wordpress', 'title'], 'Query')],
  [`${SITES}/base-a?fieldValidation=Bogus`, 'fieldValidation', 'PATCH', { spec: { wordpress: { title: 'Query' } } }],
  [`${SITES}?dryRun=Yes`, 'dryRun', 'POST', site('query-dry')],
  [`${SITES}/base-c?dryRun=true`, 'dryRun', 'DELETE'],
];
for (const [path, field, method = 'GET', body] of BAD_QUERIES) {
  badRequest(`${method} ${path.length > 90 ? `${path.slice(0, 90)}...` : path}`, { method, path, ...(body === undefined ? {} : { body }), ...(method === 'PATCH' ? { contentType: MERGE } : {}) }, field);
}
badRequest('Table with includeObject=Bogus', { method: 'GET', path: `${SITES}?includeObject=Bogus`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' }, 'includeObject');

// 21. Kinds and verbs that do not exist.
add({ name: 'POST an unknown kind', method: 'POST', path: `${API}/pods`, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, code: 404, reason: 'NotFound' });
invalid('Backup without spec.site', { method: 'POST', path: `${API}/backups`, body: { apiVersion: 'pressluft.io/v1', kind: 'Backup', metadata: { name: 'b' }, spec: {} } }, 'spec.site');
add({ name: 'POST an event', method: 'POST', path: `${API}/events`, body: { apiVersion: 'pressluft.io/v1', kind: 'Event', metadata: { name: 'e' } }, code: 405, reason: 'MethodNotAllowed' });
add({ name: 'PUT a command', method: 'PUT', path: `${API}/commands/c`, body: { apiVersion: 'pressluft.io/v1', kind: 'Command', metadata: { name: 'c' } }, code: 405, reason: 'MethodNotAllowed' });
add({ name: 'DELETE an event', method: 'DELETE', path: `${API}/events/e`, code: 405, reason: 'MethodNotAllowed' });

// 22. Bad token requests (admin only; nothing may be created or revoked).
invalid('token with a hostile subject', { method: 'POST', path: TOKENS, body: { subject: 'ci;rm -rf /', role: 'viewer' } }, 'subject');
invalid('token with role root', { method: 'POST', path: TOKENS, body: { subject: 'ci', role: 'root' } }, 'role');
badRequest('token request that is not JSON', { method: 'POST', path: TOKENS, raw: '{subject: ci}' });
add({ name: 'token request as text/plain', method: 'POST', path: TOKENS, raw: '{"subject":"ci","role":"viewer"}', contentType: 'text/plain', code: 415, reason: 'UnsupportedMediaType' });
add({ name: 'revoke a token id that is not a UUID', method: 'DELETE', path: `${TOKENS}/..%2F..%2Fetc`, code: 404, reason: 'NotFound' });
add({ name: 'revoke an unknown token id', method: 'DELETE', path: `${TOKENS}/${randomUUID()}`, code: 404, reason: 'NotFound' });
// Found by the API fuzz test (api/fuzz.int.spec.ts): each was a 500.
add({ name: 'revoke a token id of 36 hex digits that is no UUID', method: 'DELETE', path: `${TOKENS}/${'a'.repeat(36)}`, code: 404, reason: 'NotFound' });
add({ name: 'a site action on a name with a NUL', method: 'POST', path: `${SITES}/%00/check-drift`, code: 404, reason: 'NotFound' });
add({ name: 'GET a site named with a NUL', method: 'GET', path: `${SITES}/a%00b`, code: 404, reason: 'NotFound' });
badRequest('a rollback whose body is null', { method: 'POST', path: `${SITES}/base-a/rollback`, raw: 'null' });

// 23. Git sources every node refuses (the fleet's rule, libs/domain git-source.ts): a 422 naming
// the field, never a deploy that fails later. Local repositories are off in this fixture.
const REFUSED_GIT_SOURCES: ReadonlyArray<readonly [string, Obj, string]> = [
  ['an ssh url without pinned host keys', { url: 'ssh://git@git.example.test/org/shop.git', ref: 'main' }, 'spec.code.git.knownHosts'],
  ['an scp-like url without pinned host keys', { url: 'git@git.example.test:org/shop.git', ref: 'main' }, 'spec.code.git.knownHosts'],
  ['an ssh url whose host is an option', { url: 'ssh://git@-oProxyCommand=id/x.git', ref: 'main', knownHosts: 'x ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' }, 'spec.code.git.url'],
  ['pinned host keys that are not known_hosts lines', { url: 'git@git.example.test:org/shop.git', ref: 'main', knownHosts: 'anything goes' }, 'spec.code.git.knownHosts'],
  ['a plain http url', { url: 'http://git.example.test/shop.git', ref: 'main' }, 'spec.code.git.url'],
  ['a local repository (local repositories off)', { url: 'file:///srv/git/shop.git', ref: 'main' }, 'spec.code.git.url'],
  ['an absolute path', { url: '/srv/git/shop.git', ref: 'main' }, 'spec.code.git.url'],
  ['a ref that is an option', { url: 'https://git.example.test/shop.git', ref: '--upload-pack=id' }, 'spec.code.git.ref'],
];
for (const [label, git, field] of REFUSED_GIT_SOURCES) {
  invalid(`Site with ${label} (POST)`, { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'code'], { git }) }, field);
  invalid(`merge patch to ${label}`, { method: 'PATCH', path: `${SITES}/base-a`, contentType: MERGE, body: { spec: { code: { git } } } }, field);
}
const tokenUrl = { url: 'https://ghp_s3cret@git.example.test/shop.git', ref: 'main' };
invalid('Site with a token in its git url', { method: 'POST', path: SITES, body: siteWith(freshName(), ['spec', 'code'], { git: tokenUrl }), secrets: ['ghp_s3cret'] }, 'spec.code.git.url');

const MUTATIONS: ReadonlySet<Method> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

interface AuditEntry {
  subject: string;
  verb: string;
  path: string;
  code: number;
  reason: string | null;
}

interface Snapshot {
  resources: number;
  changes: number;
  tokens: number;
  audits: number;
  lastAudit: string;
  /** Every (kind, name, resourceVersion), ordered. */
  objects: Array<[string, string, string]>;
  /** Every token's (id, role, still valid). */
  tokenState: Array<[string, string, boolean]>;
}

const SNAPSHOT_SQL = `
  SELECT
    (SELECT count(*) FROM resources)::int AS resources,
    (SELECT count(*) FROM resource_changes)::int AS changes,
    (SELECT count(*) FROM api_tokens)::int AS tokens,
    (SELECT count(*) FROM audit_log)::int AS audits,
    (SELECT coalesce(max(id), 0)::text FROM audit_log) AS "lastAudit",
    (SELECT coalesce(json_agg(json_build_array(kind, name, resource_version::text) ORDER BY kind, name), '[]'::json) FROM resources) AS objects,
    (SELECT coalesce(json_agg(json_build_array(id, role, revoked_at IS NULL) ORDER BY id), '[]'::json) FROM api_tokens) AS "tokenState",
    (SELECT coalesce(json_agg(json_build_object('subject', subject, 'verb', verb, 'path', path, 'code', code, 'reason', reason) ORDER BY id), '[]'::json)
       FROM audit_log WHERE id > $1::bigint) AS "newAudits"`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let fx: ControlPlaneFixture;
const tokens: Partial<Record<Who, string>> = {};
const tokenIds: { viewer?: string } = {};

async function snapshot(sinceAudit: string): Promise<Snapshot & { newAudits: AuditEntry[] }> {
  const result = await pgQuery(fx.database.url, SNAPSHOT_SQL, [sinceAudit]);
  return result.rows[0] as Snapshot & { newAudits: AuditEntry[] };
}

/** Polls until `count` audit rows arrived after `since` (they are written after the response), or 1 s passed. */
async function settle(since: string, count: number): Promise<Snapshot & { newAudits: AuditEntry[] }> {
  const deadline = Date.now() + 1000;
  for (;;) {
    const snap = await snapshot(since);
    if (snap.newAudits.length >= count || Date.now() > deadline) return snap;
    await sleep(5);
  }
}

const subjectOf = (who: Who) => (who === 'admin' ? 'admin' : who === 'operator' ? 'olga' : who === 'viewer' ? 'vera' : 'anonymous');

function headersFor(who: Who): Pick<ApiRequest, 'token' | 'headers'> {
  switch (who) {
    case 'none':
      return {};
    case 'malformed':
      return { token: 'not-a-token' };
    case 'admin+junk':
      return { token: `${tokens.admin ?? ''}x` };
    case 'basic':
      return { headers: { authorization: `Basic ${Buffer.from(`admin:${tokens.admin ?? ''}`).toString('base64')}` } };
    case 'empty-bearer':
      return { headers: { authorization: 'Bearer ' } };
    case 'unknown':
      return { token: `plt_${randomBytes(32).toString('base64url')}` };
    case 'admin':
    case 'operator':
    case 'viewer':
    case 'revoked':
      return { token: tokens[who] };
  }
}

/** The api client always sends a Content-Type with a body, and reads a watch to its end. */
async function sendRaw(path: string, request: RawRequest): Promise<ApiResponse> {
  const res = await rawRequest(fx.plane.httpUrl, path, request);
  let body: Obj = {};
  try {
    body = JSON.parse(res.text) as Obj;
  } catch {
    // asserted below
  }
  return { ...res, body };
}

/** A watch that is refused answers at once; one that is (wrongly) accepted is cut after its status line. */
async function send(c: Case, path: string): Promise<ApiResponse> {
  const who = c.who ?? 'admin';
  const auth = headersFor(who);
  const bearer: Record<string, string> = { ...auth.headers, ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}) };
  if (c.noContentType) return sendRaw(path, { method: c.method, headers: { ...bearer, 'content-length': String(Buffer.byteLength(c.raw ?? '')) }, body: c.raw ?? '' });
  // Node's client frames a DELETE body only with an explicit Content-Length.
  const payload = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
  const options: ApiRequest = {
    method: c.method,
    ...auth,
    headers: { ...auth.headers, ...c.headers, ...(payload === undefined ? {} : { 'content-length': String(Buffer.byteLength(payload)) }) },
    ...(c.raw !== undefined ? { raw: c.raw } : {}),
    ...(c.body !== undefined ? { body: c.body } : {}),
    ...(c.contentType ? { contentType: c.contentType } : {}),
    ...(c.accept ? { accept: c.accept } : {}),
  };
  if (path.includes('watch=true')) return sendRaw(path, { method: 'GET', headers: bearer, headersOnlyOn2xx: true });
  return api(fx.plane.httpUrl, path, options);
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

describe('bad input changes nothing', () => {
  let previous: Snapshot;
  let baseline: Snapshot;
  let mutatingCases = 0;

  beforeAll(async () => {
    // The engine's loops (reconcilers, node health) change objects on their own; this test is about the API alone.
    fx = await startControlPlaneFixture({ env: { PRESSLUFT_ENGINE: 'false' } });
    tokens.admin = fx.adminToken;
    tokens.operator = await fx.token('operator', 'olga');
    tokens.viewer = await fx.token('viewer', 'vera');
    const admin = (path: string, options: ApiRequest = {}) => api(fx.plane.httpUrl, path, { token: fx.adminToken, ...options });

    let mutations = 0;
    const mutate = async (path: string, options: ApiRequest, expected: number) => {
      mutations++;
      const res = await admin(path, options);
      expect(res.status, `${options.method ?? 'GET'} ${path}: ${res.text}`).toBe(expected);
      return res;
    };
    for (const name of ['base-a', 'base-b', 'base-c', 'base-d', 'base-e']) await mutate(SITES, { method: 'POST', body: site(name) }, 201);
    await mutate(NODES, { method: 'POST', body: node('base-node') }, 201);
    // base-a moves on, so its first resourceVersion (and '1') are stale.
    await mutate(`${SITES}/base-a`, { method: 'PATCH', contentType: MERGE, body: { spec: { wordpress: { title: 'Base A' } } } }, 200);
    // The templates the table spoils one field at a time are valid as they are (dry run: nothing stored).
    await mutate(`${SITES}?dryRun=All`, { method: 'POST', body: fullSite('template') }, 201);
    for (const template of ['local', 'static', 'hetzner'] as const) await mutate(`${NODES}?dryRun=All`, { method: 'POST', body: node('template', template) }, 201);
    await mutate(`${SITES}/base-a?dryRun=All`, { method: 'PUT', body: fullSite('base-a') }, 200);

    const revoked = await mutate(TOKENS, { method: 'POST', body: { subject: 'rex', role: 'admin' } }, 201);
    const revokedBody = revoked.body as { id: string; token: string };
    tokens.revoked = revokedBody.token;
    await mutate(`${TOKENS}/${revokedBody.id}`, { method: 'DELETE' }, 200);
    const list = await admin(TOKENS);
    tokenIds.viewer = (list.body as { items: Array<{ id: string; subject: string }> }).items.find((t) => t.subject === 'vera')?.id;
    expect(tokenIds.viewer).toBeDefined();

    const settled = await settle('0', mutations);
    expect(settled.audits).toBe(mutations);
    expect(settled.objects.filter((o) => o[0] !== 'Event').map((o) => `${o[0]}/${o[1]}`)).toEqual(['Node/base-node', 'Site/base-a', 'Site/base-b', 'Site/base-c', 'Site/base-d', 'Site/base-e']);
    baseline = settled;
    previous = settled;
  });

  afterAll(async () => {
    await fx?.stop();
  });

  it(`has a table of at least 150 bad requests (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  cases.forEach((c, index) => {
    it(`#${index + 1} ${c.name}`, async () => {
      const path = typeof c.path === 'string' ? c.path : c.path();
      const res = await send(c, path);
      const mutating = MUTATIONS.has(c.method);
      if (mutating) mutatingCases++;
      const after = await settle(previous.lastAudit, mutating ? 1 : 0);
      const before = previous;
      previous = after;

      const context = `${c.method} ${path.slice(0, 120)} -> ${res.status} ${res.text.slice(0, 400)}`;
      expect(res.status, context).toBe(c.code);
      expect(res.body, context).toMatchObject({ kind: 'Status', status: 'Failure', code: c.code, reason: c.reason });
      const causes = ((res.body['details'] as { causes?: Array<{ field: string }> } | undefined)?.causes ?? []).map((cause) => cause.field);
      for (const field of c.fields ?? []) expect(causes, context).toContain(field);
      for (const secret of c.secrets ?? []) expect(res.text, 'the answer echoes a hostile value').not.toContain(JSON.stringify(secret).slice(1, -1));

      // Nothing changed: no object, no change record, no token, no resourceVersion moved.
      expect({ resources: after.resources, changes: after.changes, tokens: after.tokens }).toEqual({ resources: before.resources, changes: before.changes, tokens: before.tokens });
      expect(after.objects).toEqual(before.objects);
      expect(after.tokenState).toEqual(before.tokenState);
      // One audit row per mutation (with the caller's subject and the outcome), none for a read.
      const expectedAudit = mutating ? [{ subject: subjectOf(c.who ?? 'admin'), verb: c.method, path: path.split('?')[0], code: c.code, reason: c.reason }] : [];
      expect(after.newAudits).toEqual(expectedAudit);
    });
  });

  it('left the baseline as it was, with exactly one audit row per refused mutation', async () => {
    await sleep(200);
    const final = await snapshot(baseline.lastAudit);
    expect(final.objects).toEqual(baseline.objects);
    expect(final.tokenState).toEqual(baseline.tokenState);
    expect(final.changes).toBe(baseline.changes);
    expect(final.newAudits).toHaveLength(mutatingCases);
    const dump = JSON.stringify((await pgQuery(fx.database.url, 'SELECT * FROM audit_log')).rows);
    for (const token of Object.values(tokens)) expect(dump).not.toContain(token);
  });
});
