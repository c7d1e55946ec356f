/** One audit row as GET /auth/v1/audit shows it: who (a token's subject, never a token), what, the outcome, when. */
export interface AuditRecord {
  readonly id: string;
  readonly at: string;
  readonly subject: string;
  readonly verb: string;
  readonly path: string;
  readonly code: number;
  readonly reason?: string;
  readonly requestId: string;
  /** More than 1 only for the counted unauthenticated requests of a minute. */
  readonly count: number;
}

/** A page of the audit log, newest first. */
export interface AuditPage {
  readonly items: AuditRecord[];
  /** Pass as `before` for the next, older page; absent on the last page. */
  readonly next?: string;
}
