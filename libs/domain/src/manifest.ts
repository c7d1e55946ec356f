import { z } from 'zod';
import { GROUP_VERSION } from './api-group.js';
import { formatPath } from './field-path.js';
import { gitSourceProblem, type GitPolicy } from './git-source.js';
import { hasOwn, isPlainObject, setOwn, type JsonObject } from './json.js';
import { type KindName } from './kinds.js';
import { type FieldError } from './names.js';
import { SERVER_SET_METADATA, SPEC_SCHEMAS, STATUS_SCHEMAS, metadataInputSchema, type SpecByKind, type StatusByKind } from './resource.js';
import { fieldErrorMap, issuesToFieldErrors, unknownFieldPaths } from './schema-issues.js';

/** Kubernetes' fieldValidation query parameter. */
export type UnknownFieldPolicy = 'Strict' | 'Warn' | 'Ignore';

export const UNKNOWN_FIELD_POLICIES: readonly UnknownFieldPolicy[] = ['Strict', 'Warn', 'Ignore'];

export interface ManifestInput<Spec = unknown> {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Undefined when the client sent none (a replace then keeps what the server has). */
  finalizers: string[] | undefined;
  /** Undefined when the client sent none (or an empty string): no optimistic-concurrency check. */
  resourceVersion: string | undefined;
  /**
   * Undefined when the client sent none (or an empty string). Otherwise a precondition, as in
   * Kubernetes: a replace or patch of an object with another uid is a conflict; never a new uid.
   */
  uid: string | undefined;
  /** Defaults applied. */
  spec: Spec;
}

export type ManifestResult<Spec = unknown> =
  | { ok: true; value: ManifestInput<Spec>; warnings: string[] }
  | { ok: false; reason: 'Invalid' | 'BadRequest'; errors: FieldError[] };

export type StatusResult<Status = unknown> = { ok: true; value: Status } | { ok: false; errors: FieldError[] };

export const UNKNOWN_FIELD_MESSAGE = 'unknown field';

const manifestSchemas = new Map<KindName, z.ZodType>();

function manifestSchema(kind: KindName): z.ZodType {
  let schema = manifestSchemas.get(kind);
  if (!schema) {
    schema = z.strictObject({
      apiVersion: z.literal(GROUP_VERSION),
      kind: z.literal(kind),
      metadata: metadataInputSchema,
      spec: SPEC_SCHEMAS[kind],
    });
    manifestSchemas.set(kind, schema);
  }
  return schema;
}

/**
 * Validates what a client sent for one kind (create, replace, or the result of a patch) and
 * returns the writable part with defaults applied. The order follows Kubernetes: a body that
 * cannot be decoded (not an object, wrong apiVersion or kind, or unknown fields under Strict)
 * is a BadRequest before any field is validated; field problems are Invalid (422). `git` is the
 * installation's git source policy (whether local repositories are allowed).
 */
export function validateManifest<K extends KindName>(
  kind: K,
  body: unknown,
  policy: UnknownFieldPolicy,
  git: GitPolicy = { allowLocal: false },
): ManifestResult<SpecByKind[K]> {
  if (!isPlainObject(body)) return { ok: false, reason: 'BadRequest', errors: [{ field: '', message: 'must be a JSON object' }] };

  const envelope: FieldError[] = [];
  if (body['apiVersion'] !== GROUP_VERSION) envelope.push({ field: 'apiVersion', message: `must be "${GROUP_VERSION}"` });
  if (body['kind'] !== kind) envelope.push({ field: 'kind', message: `must be "${kind}"` });
  if (envelope.length > 0) return { ok: false, reason: 'BadRequest', errors: envelope };

  // zod silently drops "__proto__" members; refuse them so nothing vanishes without a word.
  const forbidden = protoKeyPaths(body, []);
  if (forbidden.length > 0) {
    return { ok: false, reason: 'BadRequest', errors: forbidden.map((path) => ({ field: formatPath(path), message: 'is not an allowed key' })) };
  }

  const input = withoutNulls(body) as JsonObject;
  // Users never write status; kubectl replace and edit send it back, so it is dropped, not refused.
  delete input['status'];
  const namespaceError = prepareMetadata(input);

  const schema = manifestSchema(kind);
  let result = schema.safeParse(input, { error: fieldErrorMap });
  const warnings: string[] = [];
  for (let round = 0; !result.success && round < 16; round++) {
    const unknown = unknownFieldPaths(result.error.issues);
    if (unknown.length === 0) break;
    if (policy === 'Strict') {
      return { ok: false, reason: 'BadRequest', errors: unknown.map((path) => ({ field: formatPath(path), message: UNKNOWN_FIELD_MESSAGE })) };
    }
    for (const path of unknown) {
      removeAt(input, path);
      if (policy === 'Warn') warnings.push(`unknown field "${formatPath(path)}"`);
    }
    result = schema.safeParse(input, { error: fieldErrorMap });
  }

  const errors = namespaceError ? [namespaceError] : [];
  if (!result.success) errors.push(...issuesToFieldErrors(result.error.issues));
  if (result.success) errors.push(...crossFieldErrors(kind, result.data as ParsedManifest, git));
  if (errors.length > 0 || !result.success) return { ok: false, reason: 'Invalid', errors };

  const { metadata, spec } = result.data as ParsedManifest;
  return {
    ok: true,
    value: {
      name: metadata.name,
      labels: metadata.labels,
      annotations: metadata.annotations,
      finalizers: metadata.finalizers,
      resourceVersion: metadata.resourceVersion,
      uid: metadata.uid,
      spec: spec as SpecByKind[K],
    },
    warnings,
  };
}

interface ParsedManifest {
  metadata: z.infer<typeof metadataInputSchema>;
  spec: unknown;
}

/** Validates status the control plane writes; it is our own data, so unknown fields are errors too. */
export function validateStatus<K extends KindName>(kind: K, status: unknown): StatusResult<StatusByKind[K]> {
  const result = STATUS_SCHEMAS[kind].safeParse(status, { error: fieldErrorMap });
  if (result.success) return { ok: true, value: result.data as StatusByKind[K] };
  const unknown = unknownFieldPaths(result.error.issues).map((path) => ({
    field: formatPath(['status', ...path]),
    message: UNKNOWN_FIELD_MESSAGE,
  }));
  return { ok: false, errors: [...unknown, ...issuesToFieldErrors(result.error.issues, ['status'])] };
}

/** Strips server-owned metadata; returns an error for a namespace, which cluster-scoped kinds cannot have. */
function prepareMetadata(input: JsonObject): FieldError | undefined {
  const metadata = input['metadata'];
  if (!isPlainObject(metadata)) return undefined;
  for (const key of SERVER_SET_METADATA) delete metadata[key];
  if (metadata['resourceVersion'] === '') delete metadata['resourceVersion'];
  if (metadata['uid'] === '') delete metadata['uid'];
  if (!hasOwn(metadata, 'namespace')) return undefined;
  const namespace = metadata['namespace'];
  delete metadata['namespace'];
  return namespace === ''
    ? undefined
    : { field: 'metadata.namespace', message: 'must be empty: pressluft.io resources are cluster-scoped' };
}

function crossFieldErrors(kind: KindName, manifest: ParsedManifest, git: GitPolicy): FieldError[] {
  if (kind !== 'Site') return [];
  const spec = manifest.spec as SpecByKind['Site'];
  const errors: FieldError[] = [];
  if (spec.source?.clone.site === manifest.metadata.name) errors.push({ field: 'spec.source.clone.site', message: 'must name another site' });
  // The nodes' own rule: a source every node refuses is refused here, not a failed deploy later.
  const source = spec.code?.git;
  const problem = source && gitSourceProblem(source.url, source.ref, git);
  if (problem) errors.push({ field: `spec.code.git.${problem.field}`, message: problem.message });
  return errors;
}

/** Kubernetes decodes a JSON null member as "not set"; so do we (kubectl sends `creationTimestamp: null`). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    const member = value[key];
    if (member !== null) setOwn(out, key, withoutNulls(member));
  }
  return out;
}

function protoKeyPaths(value: unknown, path: (string | number)[]): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item: unknown, i) => protoKeyPaths(item, [...path, i]));
  if (!isPlainObject(value)) return [];
  return Object.keys(value).flatMap((key) =>
    key === '__proto__' ? [[...path, key]] : protoKeyPaths(value[key], [...path, key]),
  );
}

function removeAt(root: JsonObject, path: readonly (string | number)[]): void {
  let node: unknown = root;
  for (const segment of path.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(segment)] : isPlainObject(node) ? node[String(segment)] : undefined;
  }
  const last = path[path.length - 1];
  if (isPlainObject(node) && last !== undefined) delete node[String(last)];
}
