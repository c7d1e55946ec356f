import { z } from 'zod';
import { API_GROUP, API_VERSION, GROUP_VERSION } from './api-group.js';
import { joinTokenInfoSchema, joinTokenRequestSchema, rollbackRequestSchema, tokenInfoSchema, tokenRequestSchema } from './api-requests.js';
import { isPlainObject, type JsonObject } from './json.js';
import { deleteOptionsSchema, k8sStatusSchema, listMetaSchema, statusCauseSchema, statusDetailsSchema, watchEventSchema } from './k8s-meta.js';
import { KINDS, type KindInfo, type KindName } from './kinds.js';
import { UNKNOWN_FIELD_POLICIES } from './manifest.js';
import { objectMetaSchema, SPEC_SCHEMAS, STATUS_SCHEMAS } from './resource.js';

/** Where the group's document lives under /openapi/v3 (the key of the /openapi/v3 index). */
export const OPENAPI_V3_PATH = 'apis/pressluft.io/v1';

const BASE = `/apis/${GROUP_VERSION}`;
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const AUTH = 'io.pressluft.auth.v1';
export const OBJECT_META_SCHEMA = `${META}.ObjectMeta`;
export const LIST_META_SCHEMA = `${META}.ListMeta`;
export const STATUS_SCHEMA = `${META}.Status`;

/** components.schemas key of a kind: `io.pressluft.v1.Site`. */
export function openApiSchemaName(kind: string): string {
  return `io.pressluft.${API_VERSION}.${kind}`;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const gvk = (kind: string, group = API_GROUP, version = API_VERSION) => ({ group, version, kind });

/**
 * The zod schema as OpenAPI 3.0 (one source of truth). zod's openapi-3.0 target already speaks
 * 3.0 (nullable, enum for literals); we only drop what 3.0 has no place for and the noise of
 * safe-integer bounds.
 */
export function toOpenApiSchema(schema: z.ZodType): JsonObject {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', reused: 'inline', unrepresentable: 'any' }) as JsonObject;
  delete json['$schema'];
  if ('$defs' in json || 'definitions' in json) throw new Error('schema produced definitions; OpenAPI needs them inlined');
  return tidy(json) as JsonObject;
}

function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (!isPlainObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) continue;
    if (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) continue;
    out[key] = tidy(value);
  }
  return out;
}

interface Parameter {
  name: string;
  in: 'query' | 'path';
  description: string;
  required?: boolean;
  schema: JsonObject;
}

const stringParam = (name: string, description: string): Parameter => ({ name, in: 'query', description, schema: { type: 'string' } });

const LIST_PARAMS: Parameter[] = [
  stringParam('labelSelector', 'Only objects whose labels match (Kubernetes label selector syntax, e.g. team=web).'),
  { name: 'limit', in: 'query', description: 'Most objects to return; a continue token gives the rest.', schema: { type: 'integer' } },
  stringParam('continue', 'Token from the previous page of a limited list.'),
  { name: 'watch', in: 'query', description: 'Stream ADDED/MODIFIED/DELETED/BOOKMARK events instead of a list.', schema: { type: 'boolean' } },
  stringParam('resourceVersion', 'With watch: stream changes after this version.'),
  { name: 'allowWatchBookmarks', in: 'query', description: 'With watch: send BOOKMARK events.', schema: { type: 'boolean' } },
  { name: 'timeoutSeconds', in: 'query', description: 'With watch: end the stream after this many seconds.', schema: { type: 'integer' } },
];

/** Filters some kinds offer on top of label selectors (contract: events?involvedObject=sites/shop, commands?site=shop). */
const EXTRA_LIST_PARAMS: Partial<Record<KindName, Parameter[]>> = {
  Event: [stringParam('involvedObject', 'Only events about one object, as plural/name (e.g. sites/shop).')],
  Command: [stringParam('site', 'Only commands for this site.'), stringParam('node', 'Only commands sent to this node.')],
};

const WRITE_PARAMS: Parameter[] = [
  {
    name: 'dryRun',
    in: 'query',
    description: 'All: validate and answer as if the change were made, without persisting it.',
    schema: { type: 'string', enum: ['All'] },
  },
  stringParam('fieldManager', 'Name of the actor making the change (recorded, like Kubernetes).'),
  {
    name: 'fieldValidation',
    in: 'query',
    description:
      'What to do with unknown fields: Strict rejects the request, Warn drops them with a Warning header, Ignore drops them silently.',
    schema: { type: 'string', enum: [...UNKNOWN_FIELD_POLICIES] },
  },
];

const NAME_PARAM: Parameter = { name: 'name', in: 'path', required: true, description: 'Name of the object.', schema: { type: 'string' } };

const content = (schema: object, types: readonly string[] = ['application/json', 'application/yaml']) =>
  Object.fromEntries(types.map((type) => [type, { schema }]));

const response = (description: string, schema: object, types?: readonly string[]) => ({ description, content: content(schema, types) });

const ERROR_RESPONSES = {
  '401': { description: 'Unauthorized' },
  default: response('Error, as a Kubernetes Status', ref(STATUS_SCHEMA), ['application/json']),
};

function operation(action: string, operationId: string, kind: string, description: string, extra: JsonObject): JsonObject {
  return {
    description,
    operationId,
    tags: ['pressluftIo_v1'],
    'x-kubernetes-action': action,
    // Operations carry one GVK object (kubectl's fieldValidation probe reads it as a map).
    'x-kubernetes-group-version-kind': gvk(kind),
    ...extra,
  };
}

function pathsFor(info: KindInfo): JsonObject {
  const { kind, plural } = info;
  const one = ref(openApiSchemaName(kind));
  const list = ref(openApiSchemaName(`${kind}List`));
  const listParams = [...LIST_PARAMS, ...(EXTRA_LIST_PARAMS[kind] ?? [])];
  const id = (verb: string, suffix = '') => `${verb}PressluftV1${kind}${suffix}`;

  const collection: JsonObject = {
    get: operation('list', id('list'), kind, `List or watch ${kind} objects.`, {
      parameters: listParams,
      responses: {
        '200': response('OK', list, ['application/json', 'application/yaml', 'application/json;stream=watch']),
        ...ERROR_RESPONSES,
      },
    }),
  };
  const item: JsonObject = {
    parameters: [NAME_PARAM],
    get: operation('get', id('read'), kind, `Read the ${kind}.`, { responses: { '200': response('OK', one), ...ERROR_RESPONSES } }),
  };
  const paths: JsonObject = {
    [`${BASE}/${plural}`]: collection,
    [`${BASE}/${plural}/{name}`]: item,
    [`${BASE}/watch/${plural}`]: {
      get: operation('watchlist', id('watch', 'List'), kind, `Watch ${kind} objects (same as list with watch=true).`, {
        parameters: listParams.filter((p) => p.name !== 'watch'),
        responses: { '200': response('OK', ref(`${META}.WatchEvent`), ['application/json;stream=watch']), ...ERROR_RESPONSES },
      }),
    },
  };

  if (info.userWritable) {
    const body = { required: true, content: content(one) };
    collection['post'] = operation('post', id('create'), kind, `Create a ${kind}.`, {
      parameters: WRITE_PARAMS,
      requestBody: body,
      responses: { '200': response('OK', one), '201': response('Created', one), '202': response('Accepted', one), ...ERROR_RESPONSES },
    });
    item['put'] = operation('put', id('replace'), kind, `Replace the ${kind}, or create it if absent.`, {
      parameters: WRITE_PARAMS,
      requestBody: body,
      responses: { '200': response('OK', one), '201': response('Created', one), ...ERROR_RESPONSES },
    });
    item['patch'] = operation('patch', id('patch'), kind, `Partially update the ${kind}.`, {
      parameters: [...WRITE_PARAMS],
      requestBody: {
        required: true,
        content: content(ref(`${META}.Patch`), ['application/merge-patch+json', 'application/json-patch+json']),
      },
      responses: { '200': response('OK', one), '201': response('Created', one), ...ERROR_RESPONSES },
    });
    item['delete'] = operation('delete', id('delete'), kind, `Delete the ${kind}: finalizers run first (202), then it is gone (200).`, {
      parameters: [WRITE_PARAMS[0]],
      requestBody: { required: false, content: content(ref(`${META}.DeleteOptions`), ['application/json']) },
      responses: { '200': response('OK', one), '202': response('Accepted', one), ...ERROR_RESPONSES },
    });
  }
  return paths;
}

/** An operation outside the kinds: no GVK (kubectl matches kinds by it), its own tag. */
function plainOperation(operationId: string, tag: string, description: string, responses: JsonObject, extra: JsonObject = {}): JsonObject {
  return { description, operationId, tags: [tag], ...extra, responses: { ...responses, ...ERROR_RESPONSES } };
}

/** Anyone may call it (probes, discovery of the server's version, metrics). */
const PUBLIC = { security: [] };
const JSON_ONLY = ['application/json'];
const anyObject = (description: string) => ({ type: 'object', description });

/** Site actions (each a fenced command) and the operator's resolutions of a command: POST, answered with the Command. */
const ACTIONS: readonly { plural: string; action: string; id: string; code: '200' | '201'; description: string; body?: string }[] = [
  { plural: 'sites', action: 'rollback', id: 'rollbackPressluftV1Site', code: '201', description: 'Roll the site back to its previous release, or to the release named in the body.', body: 'RollbackRequest' },
  { plural: 'sites', action: 'check-drift', id: 'checkDriftPressluftV1Site', code: '201', description: "Check the site's drift on its node now (a CheckDrift command)." },
  { plural: 'sites', action: 'rotate-credentials', id: 'rotateCredentialsPressluftV1Site', code: '201', description: "Give the site a new database password, set on its node." },
  { plural: 'commands', action: 'retry', id: 'retryPressluftV1Command', code: '201', description: 'Retry a stalled or failed command: a new command, same operation, next fence.' },
  { plural: 'commands', action: 'abandon', id: 'abandonPressluftV1Command', code: '200', description: 'Abandon a stalled or failed command: it counts as failed.' },
];

function actionPaths(): JsonObject {
  const command = ref(openApiSchemaName('Command'));
  return Object.fromEntries(
    ACTIONS.map(({ plural, action, id, code, description, body }) => [
      `${BASE}/${plural}/{name}/${action}`,
      {
        parameters: [NAME_PARAM],
        post: plainOperation(id, 'pressluftIo_v1', description, { [code]: response(code === '201' ? 'Created' : 'OK', command, JSON_ONLY) }, body
          ? { requestBody: { required: false, content: content(ref(openApiSchemaName(body)), JSON_ONLY) } }
          : {}),
      },
    ]),
  );
}

/** API tokens and join tokens under /auth/v1 (admins only): list, create (the token text once), revoke. */
function authPaths(): JsonObject {
  const paths: JsonObject = {};
  for (const [plural, kind] of [['tokens', 'Token'], ['jointokens', 'JoinToken']] as const) {
    const one = ref(`${AUTH}.${kind}`);
    paths[`/auth/v1/${plural}`] = {
      get: plainOperation(`listAuthV1${kind}`, 'auth_v1', `List ${kind} objects (never their token text).`, {
        '200': response('OK', { type: 'object', properties: { items: { type: 'array', items: one } }, required: ['items'] }, JSON_ONLY),
      }),
      post: plainOperation(`createAuthV1${kind}`, 'auth_v1', `Create a ${kind}; the answer holds the token text, shown this once.`, {
        '201': response('Created', { allOf: [one, { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] }] }, JSON_ONLY),
      }, { requestBody: { required: true, content: content(ref(`${AUTH}.${kind}Request`), JSON_ONLY) } }),
    };
    paths[`/auth/v1/${plural}/{id}`] = {
      parameters: [{ name: 'id', in: 'path', required: true, description: `Id of the ${kind}.`, schema: { type: 'string' } }],
      delete: plainOperation(`revokeAuthV1${kind}`, 'auth_v1', `Revoke the ${kind} (idempotent).`, { '200': response('OK', one, JSON_ONLY) }),
    };
  }
  return paths;
}

/** GET /auth/v1/whoami; GET /auth/v1/audit (admins only): the audit log, newest first, filtered, paged by the `before` cursor. */
function auditPaths(): JsonObject {
  const text = (name: string, description: string) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } });
  const record = {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'The cursor for `before`.' },
      at: { type: 'string', format: 'date-time' },
      subject: { type: 'string', description: "The token's subject (never the token)." },
      verb: { type: 'string' },
      path: { type: 'string' },
      code: { type: 'integer', description: 'The HTTP status answered; 0 for a counted minute of unauthenticated requests.' },
      reason: { type: 'string' },
      requestId: { type: 'string', description: 'The Audit-Id header of the answer.' },
      count: { type: 'integer' },
    },
    required: ['id', 'at', 'subject', 'verb', 'path', 'code', 'requestId', 'count'],
  };
  return {
    '/auth/v1/whoami': {
      get: plainOperation('getAuthV1WhoAmI', 'auth_v1', "The caller's token subject and role (any valid token).", {
        '200': response('OK', { type: 'object', properties: { subject: { type: 'string' }, role: { type: 'string', enum: ['admin', 'operator', 'viewer'] } }, required: ['subject', 'role'] }, JSON_ONLY),
      }),
    },
    '/auth/v1/audit': {
      get: plainOperation('listAuthV1Audit', 'auth_v1', 'The audit log (who did what, when, with what outcome; never a token), newest first.', {
        '200': response('OK', { type: 'object', properties: { items: { type: 'array', items: record }, next: { type: 'string', description: 'The `before` of the next, older page.' } }, required: ['items'] }, JSON_ONLY),
      }, {
        parameters: [
          text('subject', "The token's subject."),
          text('verb', 'POST, PUT, PATCH or DELETE.'),
          text('path', 'A path prefix, like /apis/pressluft.io/v1/nodes.'),
          text('code', 'The HTTP status code answered.'),
          text('outcome', 'ok (accepted) or refused.'),
          text('since', 'RFC 3339: rows at or after.'),
          text('until', 'RFC 3339: rows before.'),
          { name: 'limit', in: 'query', required: false, description: 'Rows per page (default 100, at most 1000).', schema: { type: 'integer' } },
          text('before', 'The `next` of the previous page.'),
        ],
      }),
    },
  };
}

/** Discovery, the OpenAPI documents, probes and metrics: what kubectl and monitoring read. */
function serverPaths(): JsonObject {
  const get = (operationId: string, description: string, schema: object, extra: JsonObject = {}, types = JSON_ONLY) => ({
    get: plainOperation(operationId, 'server', description, { '200': response('OK', schema, types) }, extra),
  });
  const openApi = anyObject('An OpenAPI 3.0 document (this one).');
  return {
    '/version': get('getVersion', 'The server version, as kubectl reads it.', anyObject('major, minor, gitVersion, platform.'), PUBLIC),
    '/api': get('getCoreApiVersions', 'The core API versions (none: every kind is in pressluft.io).', anyObject('An APIVersions object.')),
    '/api/v1/events': get(
      'listCoreV1Events',
      'The Events of pressluft.io as a read-only core/v1 EventList, oldest first: where kubectl describe looks up the events of an object.',
      anyObject('A core/v1 EventList.'),
      {
        parameters: [
          {
            name: 'fieldSelector',
            in: 'query',
            required: false,
            description: 'Equality on involvedObject.kind, involvedObject.name, involvedObject.namespace (always empty) and involvedObject.uid.',
            schema: { type: 'string' },
          },
        ],
      },
    ),
    '/apis': get('getApiGroupList', 'The API groups (pressluft.io).', anyObject('An APIGroupList object.')),
    [`/apis/${API_GROUP}`]: get('getPressluftApiGroup', 'The pressluft.io group and its versions.', anyObject('An APIGroup object.')),
    [BASE]: get('getPressluftV1Resources', 'The resources of pressluft.io/v1, with their verbs.', anyObject('An APIResourceList object.')),
    '/openapi/v3': get('getOpenApiIndex', 'The index of OpenAPI documents.', anyObject('paths: each document with its serverRelativeURL.')),
    [`/openapi/v3/${OPENAPI_V3_PATH}`]: get('getOpenApiDocument', 'This OpenAPI document.', openApi),
    '/openapi.json': get('getOpenApiJson', 'This OpenAPI document, at a fixed URL.', openApi),
    '/healthz': get('getHealthz', 'Liveness: the process serves HTTP.', anyObject('{"status": "ok"}.'), PUBLIC),
    '/readyz': get('getReadyz', 'Readiness: 200 while PostgreSQL and JetStream answer, else 503 with the failing checks.', anyObject('ready and the checks.'), PUBLIC),
    '/metrics': get('getMetrics', 'Prometheus metrics, text format.', { type: 'string' }, PUBLIC, ['text/plain']),
  };
}

function nonKindSchemas(): JsonObject {
  return {
    [openApiSchemaName('RollbackRequest')]: toOpenApiSchema(rollbackRequestSchema),
    [`${AUTH}.Token`]: toOpenApiSchema(tokenInfoSchema),
    [`${AUTH}.TokenRequest`]: toOpenApiSchema(tokenRequestSchema),
    [`${AUTH}.JoinToken`]: toOpenApiSchema(joinTokenInfoSchema),
    [`${AUTH}.JoinTokenRequest`]: toOpenApiSchema(joinTokenRequestSchema),
  };
}

function kindSchemas(info: KindInfo): JsonObject {
  const { kind } = info;
  const typeMeta = {
    apiVersion: { type: 'string', description: `Always ${GROUP_VERSION}.` },
    kind: { type: 'string', description: `Always ${kind}.` },
  };
  const status = toOpenApiSchema(STATUS_SCHEMAS[kind]);
  status['description'] = 'Observed state, written by the control plane only (ignored on writes).';
  const spec = toOpenApiSchema(SPEC_SCHEMAS[kind]);
  spec['description'] = kind === 'Event' ? 'The event (type, reason, message, involvedObject, count, timestamps).' : 'Desired state.';
  return {
    [openApiSchemaName(kind)]: {
      type: 'object',
      description: `A pressluft.io/v1 ${kind}.`,
      properties: { ...typeMeta, metadata: { allOf: [ref(OBJECT_META_SCHEMA)], default: {} }, spec, status },
      required: ['spec'],
      'x-kubernetes-group-version-kind': [gvk(kind)],
    },
    [openApiSchemaName(`${kind}List`)]: {
      type: 'object',
      description: `A list of ${kind} objects.`,
      properties: {
        ...typeMeta,
        metadata: { allOf: [ref(LIST_META_SCHEMA)], default: {} },
        items: { type: 'array', items: ref(openApiSchemaName(kind)) },
      },
      required: ['items'],
      'x-kubernetes-group-version-kind': [gvk(`${kind}List`)],
    },
  };
}

function metaSchemas(): JsonObject {
  const withGvk = (schema: JsonObject, kind: string) => ({ ...schema, 'x-kubernetes-group-version-kind': [gvk(kind, '', 'v1')] });
  const status = toOpenApiSchema(k8sStatusSchema);
  // Kubernetes' Status refers to ListMeta and StatusDetails by name; so do we.
  const statusProps = status['properties'] as JsonObject;
  statusProps['metadata'] = { allOf: [ref(LIST_META_SCHEMA)], default: {} };
  statusProps['details'] = { allOf: [ref(`${META}.StatusDetails`)] };
  const details = toOpenApiSchema(statusDetailsSchema);
  (details['properties'] as JsonObject)['causes'] = { type: 'array', items: ref(`${META}.StatusCause`) };
  return {
    // Every member optional: clients send metadata without the server-set parts.
    [OBJECT_META_SCHEMA]: { ...toOpenApiSchema(objectMetaSchema.partial()), description: 'Standard object metadata.' },
    [LIST_META_SCHEMA]: toOpenApiSchema(listMetaSchema),
    [STATUS_SCHEMA]: withGvk(status, 'Status'),
    [`${META}.StatusDetails`]: details,
    [`${META}.StatusCause`]: toOpenApiSchema(statusCauseSchema),
    [`${META}.DeleteOptions`]: withGvk(toOpenApiSchema(deleteOptionsSchema), 'DeleteOptions'),
    [`${META}.WatchEvent`]: withGvk(toOpenApiSchema(watchEventSchema), 'WatchEvent'),
    [`${META}.Patch`]: {
      type: 'object',
      description: 'A JSON merge patch, a JSON patch (array of operations) or an apply patch, per the Content-Type.',
    },
  };
}

/**
 * The OpenAPI 3.0 document for /openapi/v3/apis/pressluft.io/v1, built from the zod schemas: every
 * route the server has (the kinds, their actions, tokens, discovery, probes; a test walks the router).
 */
export function buildOpenApiV3(): Record<string, unknown> {
  const served = KINDS.filter((k) => k.served);
  const schemas: JsonObject = { ...metaSchemas(), ...nonKindSchemas() };
  const paths: JsonObject = { ...serverPaths(), ...actionPaths(), ...authPaths(), ...auditPaths() };
  for (const info of served) {
    Object.assign(schemas, kindSchemas(info));
    Object.assign(paths, pathsFor(info));
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Pressluft', version: API_VERSION, description: 'Kubernetes-style API of the Pressluft control plane.' },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'http', scheme: 'bearer', description: 'Bearer token (.pressluft/admin.token).' } },
    },
    security: [{ BearerToken: [] }],
  };
}

/** `GET /openapi/v3`: the index kubectl reads first. Pass a hash of the document to let clients cache it. */
export function buildOpenApiV3Index(hash?: string): Record<string, unknown> {
  const url = `/openapi/v3/${OPENAPI_V3_PATH}${hash ? `?hash=${encodeURIComponent(hash)}` : ''}`;
  return { paths: { [OPENAPI_V3_PATH]: { serverRelativeURL: url } } };
}
