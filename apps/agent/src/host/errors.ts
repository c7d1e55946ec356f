/**
 * A host step failed. `reason` is CamelCase and machine-readable (it becomes the command's
 * Failed.reason); `message` is for people and never contains a secret (see `redact`).
 */
export class StepError extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
    message: string,
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

/** The message of anything thrown, for wrapping into a StepError. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
