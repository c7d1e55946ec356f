import type { StatusBody, StatusCause } from './types';

/** An answer that was not 2xx: the Status the API sent (or what the console could tell without one). */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly causes: readonly StatusCause[] = [],
  ) {
    super(message);
  }

  static fromStatus(code: number, body: unknown): ApiError {
    const status = body as Partial<StatusBody> | undefined;
    if (status?.kind === 'Status') return new ApiError(status.code ?? code, status.reason ?? 'Unknown', status.message ?? `HTTP ${code}`, status.details?.causes ?? []);
    return new ApiError(code, 'Unknown', `HTTP ${code}`);
  }

  /** The message for one field (spec.domains[0]), if the API named it. */
  fieldMessage(field: string): string | undefined {
    return this.causes.find((c) => c.field === field)?.message;
  }
}
