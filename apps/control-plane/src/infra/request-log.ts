import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import type { NextFunction, Request, Response } from 'express';

/** Probes would drown everything else. */
const QUIET_PATHS = new Set(['/healthz', '/readyz']);

/**
 * One line per finished request: method, path (never the query: it may carry a selector, never a
 * secret, but it is noise), status, duration and the audit id of a mutation. No headers, so no
 * credentials. Nothing is built when the level is off.
 */
export function requestLog(logger: Logger): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const path = req.originalUrl.split('?')[0] ?? '';
    if (QUIET_PATHS.has(path)) {
      next();
      return;
    }
    const started = performance.now();
    res.on('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const auditId = res.getHeader('Audit-Id');
      logger[level](
        {
          method: req.method,
          path: path.slice(0, 512),
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
          ...(typeof auditId === 'string' ? { auditId } : {}),
        },
        'request completed',
      );
    });
    next();
  };
}

/** Nest's own messages (bootstrap, module errors) into the same pino logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', message: unknown, params: unknown[]): void {
    const context = params.length > 0 && typeof params[params.length - 1] === 'string' ? (params[params.length - 1] as string) : undefined;
    if (message instanceof Error) this.logger[level]({ err: message, context }, message.message);
    else this.logger[level]({ context }, typeof message === 'string' ? message : JSON.stringify(message));
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
}
