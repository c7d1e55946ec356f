import type { ErrorReason, PressluftError } from '../common/errors.js';

/** The one mapping from error reasons to HTTP codes. */
export const HTTP_CODE: Readonly<Record<ErrorReason, number>> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
};

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: ErrorReason | '';
  details?: { name?: string; kind?: string; causes?: Array<{ field: string; message: string; reason: string }> };
  code: number;
}

/** A Kubernetes Status object for an error; each cause names its field. */
export function statusOf(error: PressluftError): StatusObject {
  const details: NonNullable<StatusObject['details']> = {};
  if (error.details.name) details.name = error.details.name;
  if (error.details.kind) details.kind = error.details.kind;
  if (error.causes.length > 0) {
    details.causes = error.causes.map((c) => ({
      field: c.field,
      message: c.message,
      reason: error.reason === 'BadRequest' && c.message === 'unknown field' ? 'FieldValueUnknown' : 'FieldValueInvalid',
    }));
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason: error.reason,
    ...(Object.keys(details).length > 0 ? { details } : {}),
    code: HTTP_CODE[error.reason],
  };
}

export function successStatus(kind: string, name: string, uid: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind, uid }, code: 200 };
}
