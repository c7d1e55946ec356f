import { pgQuery } from '@pressluft/testing';

type Answered = { readonly headers: Record<string, string | string[] | undefined> };

/**
 * Whether the audit row of the request `response` answered (its Audit-Id) and the row `rowXmin`
 * selects were committed by one transaction (the same xmin). `rowXmin` is a query for one xmin
 * whose parameters start at $2.
 */
export async function committedWithAudit(databaseUrl: string, response: Answered, rowXmin: string, params: readonly unknown[]): Promise<boolean | null> {
  const result = await pgQuery(databaseUrl, `SELECT (SELECT xmin::text FROM audit_log WHERE request_id = $1) = (${rowXmin}) AS same`, [String(response.headers['audit-id']), ...params]);
  return (result.rows[0] as { same: boolean | null } | undefined)?.same ?? null;
}

/** Whether the change that made the object in `response` (its resourceVersion) committed with the request's audit row. */
export function changeCommittedWithAudit(databaseUrl: string, response: Answered & { readonly body: { readonly metadata: { readonly resourceVersion: string } } }): Promise<boolean | null> {
  return committedWithAudit(databaseUrl, response, 'SELECT xmin::text FROM resource_changes WHERE resource_version = $2::bigint', [response.body.metadata.resourceVersion]);
}
