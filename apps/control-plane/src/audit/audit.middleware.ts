import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import type { NextFunction, Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { subjectOf } from '../auth/auth.guard.js';
import { TokenService } from '../auth/token.service.js';
import { CLOCK, LOGGER, type Clock } from '../infra/tokens.js';
import { AuditRow } from '../persistence/entities.js';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every mutation request, accepted or refused, leaves one audit row once the response is sent:
 * who (the token's subject, never the token), what (method and path), and the outcome.
 */
@Injectable()
export class AuditMiddleware implements NestMiddleware {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (!MUTATIONS.has(req.method)) {
      next();
      return;
    }
    const requestId = randomUUID();
    res.setHeader('Audit-Id', requestId);
    const at = this.clock.now();
    res.on('finish', () => void this.write(req, res, at, requestId));
    next();
  }

  private async write(req: Request, res: Response, at: Date, requestId: string): Promise<void> {
    let subject = subjectOf(req);
    if (subject === 'anonymous') {
      // Refused before authentication ran (a body over the limit): still name who sent it.
      const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      subject = (token ? (await this.tokens.verify(token).catch(() => undefined))?.subject : undefined) ?? 'anonymous';
    }
    const row: Partial<AuditRow> = {
      at,
      subject,
      verb: req.method,
      path: req.originalUrl.split('?')[0]?.slice(0, 512) ?? '',
      code: res.statusCode,
      reason: typeof res.locals['statusReason'] === 'string' ? res.locals['statusReason'] : null,
      requestId,
    };
    await this.dataSource
      .getRepository(AuditRow)
      .insert(row)
      .catch((error: unknown) => this.logger.error({ err: error, requestId }, 'audit record could not be written'));
  }
}
