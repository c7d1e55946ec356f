/** A step failed in a way the agent can name: becomes Failed{reason, message}. */
export interface NamedFailure {
  readonly reason: string;
  readonly message: string;
}

export function failure(reason: string, message: string): NamedFailure & Error {
  return Object.assign(new Error(message), { reason });
}

/** A failure as the bus carries it: a CamelCase reason and a message without secrets. */
export function asFailure(error: unknown): NamedFailure {
  if (error instanceof Error) {
    const reason = (error as Error & { reason?: unknown }).reason;
    return {
      reason: typeof reason === 'string' && /^[A-Z][A-Za-z0-9]{0,127}$/.test(reason) ? reason : 'StepFailed',
      message: error.message.slice(0, 4096),
    };
  }
  return { reason: 'StepFailed', message: String(error).slice(0, 4096) };
}
