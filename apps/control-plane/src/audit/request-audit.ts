import type { Request } from 'express';
import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../persistence/prepared.js';

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

/** The head of every INSERT of audit rows (the middleware's batches, insertAudit, the resource write statement). */
export const AUDIT_INSERT = 'INSERT INTO audit_log (at, subject, verb, path, code, reason, request_id)';

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

/**
 * Inserts an accepted mutation's audit row inside the transaction that makes the mutation, so the
 * two commit together or not at all. (Resource writes do the same inside their write statement,
 * see RequestAudit in resource.store.ts.)
 */
export async function insertAudit(manager: EntityManager, entry: AuditEntry | undefined): Promise<void> {
  if (!entry) return;
  await queryPrepared(manager, `${AUDIT_INSERT} VALUES ($1, $2, $3, $4, $5, NULL, $6)`, [
    entry.at,
    entry.subject,
    entry.verb,
    entry.path,
    entry.code,
    entry.requestId,
  ]);
}
