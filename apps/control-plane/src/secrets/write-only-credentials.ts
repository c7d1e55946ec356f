import type { BackupStoreCredentials, BackupStoreSpec, KindName, ManifestInput } from '@pressluft/domain';

/** kubectl apply keeps the whole manifest it applied here, credentials included. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Kinds with write-only fields: their writes may write a secret, so they always run in a transaction. */
export function hasWriteOnlyFields(kind: KindName): boolean {
  return kind === 'BackupStore';
}

/**
 * Takes a BackupStore's write-only spec.credentials out of a validated manifest, before anything
 * stores it: from the spec and from kubectl's last-applied annotation. Other kinds pass unchanged.
 */
export function takeCredentials(kind: KindName, input: ManifestInput): { input: ManifestInput; credentials: BackupStoreCredentials | undefined } {
  if (!hasWriteOnlyFields(kind)) return { input, credentials: undefined };
  const { credentials, ...spec } = input.spec as BackupStoreSpec;
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
