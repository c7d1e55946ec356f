import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type NestMiddleware } from '@nestjs/common';
import type { Logger } from '@pressluft/platform';
import type { NextFunction, Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { subjectOf } from '../auth/auth.guard.js';
import { TokenService } from '../auth/token.service.js';
import { CLOCK, LOGGER, type Clock } from '../infra/tokens.js';
import type { AuditRow } from '../persistence/entities.js';
import { insertAuditRows } from './audit.repository.js';
import { isAudited, setAuditedRequest, type AuditedRequest, type MutationVerb } from './request-audit.js';

type PendingRow = Omit<AuditRow, 'id'>;

const MUTATIONS = new Set<string>(['POST', 'PUT', 'PATCH', 'DELETE'] satisfies MutationVerb[]);
/** How long audit rows wait for company before their INSERT. */
const GATHER_MS = 2;

/**
 * Every mutation request, accepted or refused, leaves one audit row: who (the token's subject,
 * never the token), what (method and path), and the outcome. An accepted mutation commits its
 * row in its own transaction (insertAudit, or the write statement of a resource: RequestAudit)
 * and marks the request audited; every other outcome (refusals, dry runs, no-op writes) is
 * written here once the response is sent.
 */
@Injectable()
export class AuditMiddleware implements NestMiddleware, BeforeApplicationShutdown {
  /** Rows waiting while an INSERT is on its way: they go together in the next one. */
  private pending: PendingRow[] = [];
  /** The INSERTs on their way (one after another), until `pending` is empty. */
  private flushing: Promise<void> | undefined;
  private gathering: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Rows still gathering or on their way are written before the database goes (its module closes it on shutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.gathering);
    this.gathering = undefined;
    await this.flushing;
    await this.flush();
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!MUTATIONS.has(req.method)) {
      next();
      return;
    }
    const request: AuditedRequest = {
      at: this.clock.now(),
      requestId: randomUUID(),
      verb: req.method as MutationVerb,
      path: req.originalUrl.split('?')[0]?.slice(0, 512) ?? '',
    };
    setAuditedRequest(req, request);
    res.setHeader('Audit-Id', request.requestId);
    res.on('finish', () => {
      if (!isAudited(req)) void this.write(req, res, request);
    });
    next();
  }

  private async write(req: Request, res: Response, { at, requestId, verb, path }: AuditedRequest): Promise<void> {
    let subject = subjectOf(req);
    if (subject === 'anonymous') {
      // Refused before authentication ran (a body over the limit): still name who sent it.
      const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      subject = (token ? (await this.tokens.verify(token).catch(() => undefined))?.subject : undefined) ?? 'anonymous';
    }
    this.pending.push({
      at,
      subject,
      verb,
      path,
      code: res.statusCode,
      reason: typeof res.locals['statusReason'] === 'string' ? res.locals['statusReason'] : null,
      requestId,
    });
    // Rows arriving within a few milliseconds go together: under load one INSERT per batch, not per request.
    this.gathering ??= setTimeout(() => {
      this.gathering = undefined;
      void this.flush();
    }, GATHER_MS);
  }

  /** One multi-row INSERT for everything that arrived meanwhile (an INSERT on its way makes the next one wait). */
  private flush(): Promise<void> {
    this.flushing ??= this.insertPending().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async insertPending(): Promise<void> {
    while (this.pending.length > 0) {
      const rows = this.pending.splice(0, 500);
      await insertAuditRows(this.dataSource, rows).catch((error: unknown) => this.logger.error({ err: error, requestIds: rows.map((r) => r.requestId) }, 'audit records could not be written'));
    }
  }
}
