import type { ApiError } from '../core/api-error';

/**
 * The API's causes for one form input: a cause belongs to the input whose field path it is or is
 * under (spec.domains[1] belongs to spec.domains). Messages joined, undefined when none.
 */
export function causeAt(error: ApiError | undefined, field: string): string | undefined {
  const messages = (error?.causes ?? []).filter((c) => c.field !== undefined && (c.field === field || c.field.startsWith(`${field}.`) || c.field.startsWith(`${field}[`))).map((c) => (c.field === field ? c.message : `${c.field}: ${c.message}`));
  return messages.length > 0 ? messages.join('; ') : undefined;
}

