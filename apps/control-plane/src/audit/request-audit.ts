import type { Request } from 'express';

export type MutationVerb = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A mutation request's audit facts, taken by AuditMiddleware when it arrives. */
export interface AuditedRequest {
  readonly at: Date;
  readonly requestId: string;
  readonly verb: MutationVerb;
  readonly path: string;
}

/** The audit row of an accepted mutation: the request, who asked, and the status it is answered with. */
export interface AuditEntry extends AuditedRequest {
  readonly subject: string;
  readonly code: number;
}

const REQUEST = Symbol('audited request');
const AUDITED = Symbol('audited');
type AuditableRequest = Request & { [REQUEST]?: AuditedRequest; [AUDITED]?: true };

export function setAuditedRequest(req: Request, request: AuditedRequest): void {
  (req as AuditableRequest)[REQUEST] = request;
}

/** The audit facts of a mutation request (undefined for a read), for a write that records its own row. */
export function auditedRequestOf(req: Request): AuditedRequest | undefined {
  return (req as AuditableRequest)[REQUEST];
}

/** The audit row of `req` accepted with `code`, for the transaction that carries out the mutation. */
export function auditEntryOf(req: Request, subject: string, code: number): AuditEntry | undefined {
  const request = auditedRequestOf(req);
  return request ? { ...request, subject, code } : undefined;
}

/**
 * Runs an accepted mutation of `req` (answered with `code`) that commits the request's audit row
 * in its own transaction (insertAudit), then tells AuditMiddleware to write none. A refusal throws
 * before: the middleware writes that row.
 */
export async function withRequestAudit<T>(req: Request, subject: string, code: number, mutate: (audit: AuditEntry | undefined) => Promise<T>): Promise<T> {
  const result = await mutate(auditEntryOf(req, subject, code));
  markAudited(req);
  return result;
}

/** The request's audit row was committed with its mutation: AuditMiddleware writes none. */
export function markAudited(req: Request): void {
  (req as AuditableRequest)[AUDITED] = true;
}

export function isAudited(req: Request): boolean {
  return (req as AuditableRequest)[AUDITED] === true;
}
