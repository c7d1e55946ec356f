/**
 * Exit codes scripts can trust (README "pressluftctl"): 0 done; 1 the operation ran and failed;
 * 2 usage error; 3 the API refused the request (4xx); 4 the server could not be reached, did not
 * answer in time, or failed itself (5xx).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, unreachable: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface StatusCause {
  readonly field?: string;
  readonly message?: string;
  readonly reason?: string;
}

/** A Kubernetes Status object as the API answers every error. */
export interface ApiStatus {
  readonly kind?: string;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: { readonly causes?: readonly StatusCause[] };
}

/** The API answered with an error status (its Status body, or what could be read of it). */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: ApiStatus,
  ) {
    super(status.message ?? `the server answered ${code}`);
  }
}

/** No answer: connection refused, TLS failure, timeout. */
export class UnreachableError extends Error {}

/** The operation was accepted and ran, and failed (a command FAILED, a run FAILED). */
export class OperationFailed extends Error {
  constructor(
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** Wrong use found after parsing (a bad --for, no config yet, a bad duration). */
export class UsageError extends Error {}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof ApiError) return error.code >= 500 ? EXIT.unreachable : EXIT.refused;
  if (error instanceof UnreachableError) return EXIT.unreachable;
  if (error instanceof OperationFailed) return EXIT.failed;
  if (error instanceof UsageError) return EXIT.usage;
  return EXIT.failed;
}

/** What stderr says: the Status reason and message, then each cause's field (never a stack). */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const { reason, message } = error.status;
    const head = `error: ${reason ?? `HTTP ${error.code}`}: ${message ?? 'no message'}`;
    const causes = (error.status.details?.causes ?? []).map((c) => `  ${c.field ?? '(no field)'}: ${c.message ?? c.reason ?? ''}`);
    return [head, ...causes].join('\n');
  }
  if (error instanceof OperationFailed) return `error: ${error.reason ? `${error.reason}: ` : ''}${error.message}`;
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}
