import type { StepReporter } from '@pressluft/agent-runtime';
import type { Logger } from '@pressluft/platform';
import { messageOf, redact, StepError, type StepName, type StepReason } from './errors.js';
import { NginxConfigError } from './nginx.js';
import { FpmConfigError } from './php-fpm.js';
import { GitFetchError } from './git.js';
import { TemplateError } from './template.js';

/** A long step re-reports its progress this often, so the runtime keeps the command's message alive. */
const TICK_MS = 2_000;

/** The reason a step reports when it fails without a more specific one. */
export const STEP_REASONS: Readonly<Record<StepName, StepReason>> = {
  validate: 'InvalidSite',
  user: 'UserFailed',
  tree: 'SiteTreeFailed',
  database: 'DatabaseFailed',
  cgroup: 'CgroupFailed',
  'php-fpm': 'PhpFpmFailed',
  'wp-config': 'WpConfigFailed',
  release: 'ReleaseFailed',
  nginx: 'NginxFailed',
  wordpress: 'WordPressInstallFailed',
  verify: 'SiteNotServing',
  state: 'StateFailed',
  fetch: 'GitFetchFailed',
  dependencies: 'DependencyInstallFailed',
  health: 'HealthCheckFailed',
  switch: 'ReleaseSwitchFailed',
  prune: 'PruneFailed',
  revoke: 'DatabasePasswordRevokeFailed',
  drain: 'HostStepFailed',
  redis: 'RedisFailed',
  store: 'BackupStoreUnreachable',
  files: 'BackupFailed',
  manifest: 'BackupFailed',
  restore: 'RestoreFailed',
  acme: 'AcmeError',
  certificate: 'CertificateInvalid',
  install: 'CertificateInstallFailed',
};

/**
 * Runs an operation's steps: each reports its progress (again every TICK_MS while it runs), is
 * logged with its duration, and fails as a StepError with a named reason and a message from
 * which every secret the operation collected in `secrets` is redacted.
 */
export class StepRunner {
  /** Secrets of this operation (passwords, salts): never in a step's failure message. */
  readonly secrets: string[] = [];

  constructor(
    private readonly report: StepReporter,
    private readonly logger: Logger,
    private readonly site: string,
  ) {}

  async run<T>(step: StepName, percent: number, fn: () => Promise<T>): Promise<T> {
    const { report, logger, site } = this;
    const started = Date.now();
    await report.progress(step, percent);
    const timer = setInterval(() => {
      report.progress(step, percent).catch((error: unknown) => logger.warn({ site, step, err: messageOf(error) }, 'progress report failed'));
    }, TICK_MS);
    timer.unref();
    try {
      const result = await fn();
      logger.debug({ site, step, ms: Date.now() - started }, 'host step done');
      return result;
    } catch (error) {
      const failure = toStepError(step, error, this.secrets);
      logger.warn({ site, step, reason: failure.reason, ms: Date.now() - started, err: failure.message }, 'host step failed');
      throw failure;
    } finally {
      clearInterval(timer);
    }
  }
}

export function toStepError(step: StepName, error: unknown, secrets: readonly string[]): StepError {
  if (error instanceof StepError) return new StepError(error.step, error.reason, redact(error.message, secrets), error.retryAfterSeconds);
  const reason: StepReason =
    error instanceof NginxConfigError
      ? 'NginxConfigInvalid'
      : error instanceof FpmConfigError
        ? 'PhpFpmConfigInvalid'
        : error instanceof TemplateError
          ? 'TemplateInvalid'
          : error instanceof GitFetchError
            ? 'GitFetchFailed'
            : STEP_REASONS[step];
  return new StepError(step, reason, redact(`${step}: ${messageOf(error)}`, secrets));
}
