import type { FieldError } from '@pressluft/domain';

/** Kubernetes Status reasons the API answers with; mapped to HTTP codes in one place (status.filter.ts). */
export type ErrorReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'Invalid'
  | 'InternalError'
  | 'ServiceUnavailable';

/** A refusal the caller can act on. Code below the HTTP edge throws these, never HTTP exceptions. */
export class PressluftError extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
    readonly causes: readonly FieldError[] = [],
    readonly details: { readonly kind?: string; readonly name?: string } = {},
  ) {
    super(message);
    this.name = 'PressluftError';
  }
}

export const notFound = (plural: string, name: string) =>
  new PressluftError('NotFound', `${plural} "${name}" not found`, [], { kind: plural, name });

export const conflict = (plural: string, name: string, message: string) =>
  new PressluftError('Conflict', `Operation cannot be fulfilled on ${plural} "${name}": ${message}`, [], { kind: plural, name });

/** 422 for one field of one object: `<Kind> "<name>" is invalid: <field>: <message>`. */
export const invalidField = (kind: string, name: string, field: string, message: string) =>
  new PressluftError('Invalid', `${kind} "${name}" is invalid: ${field}: ${message}`, [{ field, message }], { kind, name });
