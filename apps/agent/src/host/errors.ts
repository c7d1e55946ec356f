/** Every step a host operation runs (its progress events name it). */
export type StepName =
  | 'validate'
  | 'user'
  | 'tree'
  | 'database'
  | 'cgroup'
  | 'php-fpm'
  | 'wp-config'
  | 'release'
  | 'nginx'
  | 'wordpress'
  | 'verify'
  | 'state'
  | 'fetch'
  | 'dependencies'
  | 'health'
  | 'switch'
  | 'prune'
  | 'revoke'
  | 'drain'
  | 'redis'
  | 'store'
  | 'files'
  | 'manifest'
  | 'restore'
  | 'acme'
  | 'certificate'
  | 'install';

/** Why a step failed (Failed.reason): a step's default (step-runner.ts STEP_REASONS) or a more specific one. */
export type StepReason =
  | 'InvalidSite'
  | 'UserFailed'
  | 'SiteTreeFailed'
  | 'DatabaseFailed'
  | 'CgroupFailed'
  | 'PhpFpmFailed'
  | 'WpConfigFailed'
  | 'ReleaseFailed'
  | 'NginxFailed'
  | 'WordPressInstallFailed'
  | 'SiteNotServing'
  | 'StateFailed'
  | 'GitFetchFailed'
  | 'GitAuthFailed'
  | 'GitHostKeyMismatch'
  | 'DependencyInstallFailed'
  | 'HealthCheckFailed'
  | 'ReleaseSwitchFailed'
  | 'PruneFailed'
  | 'DatabasePasswordRevokeFailed'
  | 'HostStepFailed'
  | 'NginxConfigInvalid'
  | 'PhpFpmConfigInvalid'
  | 'TemplateInvalid'
  | 'InvalidGitSource'
  | 'GitSourceTooLarge'
  | 'InvalidRelease'
  | 'ReleaseNotFound'
  | 'SiteIdConflict'
  | 'SiteNotProvisioned'
  | 'WordPressVersionUnavailable'
  | 'OldDatabasePasswordValid'
  | 'NewDatabasePasswordRejected'
  | 'RedisFailed'
  | 'RedisUnavailable'
  | 'OldRedisPasswordValid'
  | 'NewRedisPasswordRejected'
  | 'BackupFailed'
  | 'BackupStoreUnreachable'
  | 'BackupInvalid'
  | 'RestoreFailed'
  | 'TlsUnavailable'
  | 'AcmeOrderInvalid'
  | 'AcmeError'
  | 'AcmeRateLimited'
  | 'AcmeChallengeFailed'
  | 'DnsProviderUnavailable'
  | 'DnsProviderFailed'
  | 'CertificateInvalid'
  | 'CertificateInstallFailed'
  | 'WordPressUrlFailed';

/**
 * A host step failed. `reason` is CamelCase and machine-readable (it becomes the command's
 * Failed.reason); `message` is for people and never contains a secret (see `redact`).
 */
export class StepError extends Error {
  constructor(
    readonly step: StepName,
    readonly reason: StepReason,
    message: string,
    /** Not to be retried before this many seconds (an ACME rate limit's Retry-After): Failed.retry_after_seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

/** Replaces every occurrence of each secret (non-empty) in `text` with [REDACTED]. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('[REDACTED]');
  return out;
}

/** `part`'s failure as a StepError of `step` with `reason` (a StepError thrown inside keeps its own). */
export async function failsAs<T>(step: StepName, reason: StepReason, part: Promise<T>): Promise<T> {
  try {
    return await part;
  } catch (error) {
    if (error instanceof StepError) throw error;
    throw new StepError(step, reason, `${step}: ${messageOf(error)}`);
  }
}

/** The message of anything thrown, for wrapping into a StepError. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
