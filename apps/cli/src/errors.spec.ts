import { describe, expect, it } from 'vitest';
import { ApiError, describeError, EXIT, exitCodeOf, OperationFailed, UnreachableError, UsageError } from './errors.js';

const invalid = new ApiError(422, {
  kind: 'Status',
  code: 422,
  reason: 'Invalid',
  message: 'Backup "b" is invalid: spec.site: must be a name',
  details: { causes: [{ field: 'spec.site', message: 'must be a name' }, { message: 'no field' }] },
});

describe('exit codes and messages scripts can trust', () => {
  it.each([
    ['an operation that failed', new OperationFailed('the health check failed', 'HealthCheckFailed'), EXIT.failed, 'error: HealthCheckFailed: the health check failed'],
    ['a usage error', new UsageError('--for must be condition=<Type>'), EXIT.usage, 'error: --for must be condition=<Type>'],
    ['a 422 with causes', invalid, EXIT.refused, 'error: Invalid: Backup "b" is invalid: spec.site: must be a name\n  spec.site: must be a name\n  (no field): no field'],
    ['a 403', new ApiError(403, { reason: 'Forbidden', message: 'viewer may not create backups' }), EXIT.refused, 'error: Forbidden: viewer may not create backups'],
    ['a 404 without a Status body', new ApiError(404, {}), EXIT.refused, 'error: HTTP 404: no message'],
    ['a 503', new ApiError(503, { reason: 'ServiceUnavailable', message: 'not ready' }), EXIT.unreachable, 'error: ServiceUnavailable: not ready'],
    ['no answer', new UnreachableError('cannot reach http://127.0.0.1:1: connect ECONNREFUSED'), EXIT.unreachable, 'error: cannot reach http://127.0.0.1:1: connect ECONNREFUSED'],
    ['anything else', new Error('boom'), EXIT.failed, 'error: boom'],
  ])('%s', (_name, error, code, message) => {
    expect(exitCodeOf(error)).toBe(code);
    expect(describeError(error)).toBe(message);
  });
});
