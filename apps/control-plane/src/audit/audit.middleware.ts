import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type NestMiddleware } from '@nestjs/common';
import { admitAnonymousAudit, type AnonymousMinute } from '@pressluft/domain';
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
/** Unauthenticated requests a minute with an audit row of their own; the rest become one counted row. */
const ANONYMOUS_ROWS_PER_MINUTE = 60;

/**
 * Every mutation request, accepted or refused, leaves one audit row: who (the token's subject,
 * never the token), what (method and path), and the outcome. An accepted mutation commits its
 * row in its own transaction (insertAudit, or the write statement of a resource: RequestAudit)
 * and marks the request audited; every other outcome (refusals, dry runs, no-op writes) is
 * written here once the response is sent. Requests without a valid token cannot grow the log
 * without bound: past ANONYMOUS_ROWS_PER_MINUTE in a minute they are counted, and the minute's
 * count becomes one row (subject anonymous, verb and path "*", code 0) once it is over.
 */
@Injectable()
export class AuditMiddleware implements NestMiddleware, BeforeApplicationShutdown {
  /** Rows waiting while an INSERT is on its way: they go together in the next one. */
  private pending: PendingRow[] = [];
  /** The INSERTs on their way (one after another), until `pending` is empty. */
  private flushing: Promise<void> | undefined;
  private gathering: NodeJS.Timeout | undefined;
  /** This minute's unauthenticated requests, and the timer that writes its count once it is over. */
  private anonymous: AnonymousMinute | undefined;
  private closingMinute: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Rows still gathering or on their way are written before the database goes (its module closes it on shutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.closeAnonymousMinute();
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
    if (subject === 'anonymous' && !this.admitAnonymous(at)) return;
    this.enqueue({
      at,
      subject,
      verb,
      path,
      code: res.statusCode,
      reason: typeof res.locals['statusReason'] === 'string' ? res.locals['statusReason'] : null,
      requestId,
      count: 1,
    });
  }

  /** Whether an unauthenticated request gets its own row; a minute that is over and had counted requests goes in as one. */
  private admitAnonymous(at: Date): boolean {
    const { ownRow, minute, closed } = admitAnonymousAudit(this.anonymous, at, ANONYMOUS_ROWS_PER_MINUTE);
    this.anonymous = minute;
    if (closed) {
      clearTimeout(this.closingMinute);
      this.closingMinute = undefined;
      this.enqueue(countedRow(closed));
    }
    if (!ownRow && !this.closingMinute) {
      // No later request may come to close it: a timer does, just after the minute is over.
      this.closingMinute = setTimeout(() => this.closeAnonymousMinute(), (minute.minute + 1) * 60_000 - at.getTime() + 100);
      this.closingMinute.unref();
    }
    return ownRow;
  }

  private closeAnonymousMinute(): void {
    clearTimeout(this.closingMinute);
    this.closingMinute = undefined;
    if (this.anonymous && this.anonymous.counted > 0) this.enqueue(countedRow(this.anonymous));
    this.anonymous = undefined;
  }

  private enqueue(row: PendingRow): void {
    this.pending.push(row);
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

/** One row for the counted unauthenticated requests of a minute. */
function countedRow({ minute, counted }: AnonymousMinute): PendingRow {
  return { at: new Date(minute * 60_000), subject: 'anonymous', verb: '*', path: '*', code: 0, reason: null, requestId: randomUUID(), count: counted };
}
