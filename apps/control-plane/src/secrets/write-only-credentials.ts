import type { BackupStoreCredentials, KindName, ManifestInput, SiteCredentials } from '@pressluft/domain';

/** kubectl apply keeps the whole manifest it applied here, credentials included. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The kinds whose spec.credentials are write-only (stored encrypted in resource_secrets, never returned). */
const WRITE_ONLY_KINDS: ReadonlySet<KindName> = new Set(['BackupStore', 'Site']);

/** Kinds with write-only fields: a write may store a secret beside the object, and a removal drops it. */
export function hasWriteOnlyFields(kind: KindName): boolean {
  return WRITE_ONLY_KINDS.has(kind);
}

/** What a write gave for a kind's write-only spec.credentials (undefined: none given). */
export type GivenCredentials = BackupStoreCredentials | SiteCredentials | undefined;

/**
 * Takes the write-only spec.credentials (a BackupStore's, a Site's) out of a validated manifest,
 * before anything stores it: from the spec and from kubectl's last-applied annotation. Other
 * kinds pass unchanged.
 */
export function takeCredentials(kind: KindName, input: ManifestInput): { input: ManifestInput; credentials: GivenCredentials } {
  if (!hasWriteOnlyFields(kind)) return { input, credentials: undefined };
  const { credentials, ...spec } = input.spec as { credentials?: GivenCredentials };
  const applied = input.annotations[LAST_APPLIED_ANNOTATION];
  const annotations = { ...input.annotations };
  if (applied !== undefined) {
    const stripped = withoutAppliedCredentials(applied);
    if (stripped === undefined) delete annotations[LAST_APPLIED_ANNOTATION];
    else annotations[LAST_APPLIED_ANNOTATION] = stripped;
  }
  return { input: { ...input, spec, annotations }, credentials };
}

/**
 * The last-applied manifest without spec.credentials. Undefined when it is not a JSON object: it
 * cannot be shown to hold no secret, so it is not kept (kubectl then diffs against the live object).
 */
export function withoutAppliedCredentials(annotation: string): string | undefined {
  let manifest: unknown;
  try {
    manifest = JSON.parse(annotation);
  } catch {
    return undefined;
  }
  if (!isObject(manifest)) return undefined;
  const spec = manifest['spec'];
  if (!isObject(spec) || !('credentials' in spec)) return annotation;
  const { credentials: _credentials, ...rest } = spec;
  return `${JSON.stringify({ ...manifest, spec: rest })}\n`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
