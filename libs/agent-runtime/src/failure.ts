/** A step failed in a way the agent can name: becomes Failed{reason, message}. */
export interface NamedFailure {
  readonly reason: string;
  readonly message: string;
  /** Not to be retried before this many seconds (Failed.retry_after_seconds); an ACME rate limit's Retry-After. */
  readonly retryAfterSeconds?: number;
}

export function failure(reason: string, message: string, retryAfterSeconds?: number): NamedFailure & Error {
  return Object.assign(new Error(message), { reason, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
}

/** A failure as the bus carries it: a CamelCase reason and a message without secrets. */
export function asFailure(error: unknown): NamedFailure {
  if (error instanceof Error) {
    const reason = (error as Error & { reason?: unknown }).reason;
    const retry = (error as Error & { retryAfterSeconds?: unknown }).retryAfterSeconds;
    return {
      reason: typeof reason === 'string' && /^[A-Z][A-Za-z0-9]{0,127}$/.test(reason) ? reason : 'StepFailed',
      message: error.message.slice(0, 4096),
      ...(typeof retry === 'number' && Number.isInteger(retry) && retry > 0 ? { retryAfterSeconds: Math.min(retry, 30 * 24 * 3600) } : {}),
    };
  }
  return { reason: 'StepFailed', message: String(error).slice(0, 4096) };
}
