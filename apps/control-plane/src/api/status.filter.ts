import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import type { Response } from 'express';
import { PressluftError, type ErrorReason } from '../common/errors.js';
import { LOGGER } from '../infra/tokens.js';
import { statusOf } from './status.js';

const FROM_HTTP: Readonly<Record<number, ErrorReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
};

/**
 * Every error leaves as a Kubernetes Status object. Domain errors carry their reason; framework
 * errors (unknown route, body too large) are translated; anything else is a 500 whose details
 * stay in the log.
 */
@Catch()
export class StatusFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const error = this.toPressluftError(exception);
    const status = statusOf(error);
    response.locals['statusReason'] = error.reason;
    if (response.headersSent) {
      response.end();
      return;
    }
    response.status(status.code).type('application/json').send(JSON.stringify(status));
  }

  private toPressluftError(exception: unknown): PressluftError {
    if (exception instanceof PressluftError) return exception;
    const bodyError = exception as { type?: string; status?: number; limit?: number; expose?: boolean; message?: string };
    if (bodyError.type === 'entity.too.large') {
      return new PressluftError('RequestEntityTooLarge', `the request body is larger than the limit of ${String(bodyError.limit)} bytes`);
    }
    // The body reader's other refusals (an unsupported Content-Encoding, a gzip body that does not
    // inflate, a length that does not match, an aborted upload) are the client's, never a 500.
    const readerReason = bodyError.expose === true ? FROM_HTTP[bodyError.status ?? 0] : undefined;
    if (readerReason) return new PressluftError(readerReason, `the request body cannot be read: ${String(bodyError.message).slice(0, 200)}`);
    if (exception instanceof HttpException) {
      const reason = FROM_HTTP[exception.getStatus()];
      if (reason) return new PressluftError(reason, reason === 'NotFound' ? 'the server could not find the requested resource' : exception.message);
    }
    this.logger.error({ err: exception }, 'request failed unexpectedly');
    return new PressluftError('InternalError', 'an internal error occurred; see the control plane log');
  }
}
