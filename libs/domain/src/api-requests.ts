import { z } from 'zod';
import { formatPath } from './field-path.js';
import { nameSchema, timestampSchema } from './field-schemas.js';
import { type FieldError } from './names.js';
import { fieldErrorMap, issuesToFieldErrors, unknownFieldPaths } from './schema-issues.js';
import { RELEASE_ID_PATTERN } from './site.js';

/**
 * The bodies of the API's routes that are not kinds: tokens, join tokens and site actions. The
 * controllers validate with these and the OpenAPI document publishes them (one source of truth).
 */

const ROLES = ['admin', 'operator', 'viewer'] as const;

const TOKEN_SUBJECT_PATTERN = /^[a-z][a-z0-9._@-]{0,62}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const idSchema = z.string().regex(UUID_PATTERN, 'must be a UUID');

/** POST /auth/v1/tokens (other members are ignored, as before). */
export const tokenRequestSchema = z.object({
  subject: z.string().regex(TOKEN_SUBJECT_PATTERN, "must be 1-63 characters: a lower-case letter, then lower-case letters, digits, '.', '_', '@' or '-'"),
  role: z.enum(ROLES),
});

/** An API token as the API shows it: never the token text or its hash. */
export const tokenInfoSchema = z.strictObject({
  id: idSchema,
  subject: z.string().regex(TOKEN_SUBJECT_PATTERN),
  role: z.enum(ROLES),
  createdAt: timestampSchema,
  createdBy: z.string().regex(TOKEN_SUBJECT_PATTERN),
  revokedAt: timestampSchema.optional(),
});

export type TokenInfo = z.infer<typeof tokenInfoSchema>;

const JOIN_TOKEN_TTL = { min: 60, max: 86_400, default: 3600 } as const;

/** POST /auth/v1/jointokens. */
export const joinTokenRequestSchema = z.strictObject({
  node: nameSchema,
  ttlSeconds: z
    .int({ error: `must be a whole number of seconds from ${JOIN_TOKEN_TTL.min} to ${JOIN_TOKEN_TTL.max}` })
    .min(JOIN_TOKEN_TTL.min)
    .max(JOIN_TOKEN_TTL.max)
    .default(JOIN_TOKEN_TTL.default),
});

const JOIN_TOKEN_STATES = ['Pending', 'Used', 'Expired', 'Revoked'] as const;

/** A join token as the API shows it: never the token text or its hash. */
export const joinTokenInfoSchema = z.strictObject({
  id: idSchema,
  node: nameSchema,
  state: z.enum(JOIN_TOKEN_STATES),
  createdAt: timestampSchema,
  createdBy: z.string().regex(TOKEN_SUBJECT_PATTERN),
  expiresAt: timestampSchema,
  usedAt: timestampSchema.optional(),
  revokedAt: timestampSchema.optional(),
});

export type JoinTokenInfo = z.infer<typeof joinTokenInfoSchema>;

/** POST /apis/pressluft.io/v1/sites/{name}/rollback: nothing (the previous release) or one release. */
export const rollbackRequestSchema = z.strictObject({
  release: z.string().regex(RELEASE_ID_PATTERN, 'must be a release id like 20261124T101500Z').optional(),
});

export type RequestResult<T> = { ok: true; value: T } | { ok: false; unknown: FieldError[]; errors: FieldError[] };

/** A request body checked against its schema: unknown members and field problems apart (the caller says which is a 400). */
export function parseRequest<T extends z.ZodType>(schema: T, body: unknown): RequestResult<z.output<T>> {
  const result = schema.safeParse(body, { error: fieldErrorMap });
  if (result.success) return { ok: true, value: result.data };
  const unknown = unknownFieldPaths(result.error.issues).map((path) => ({ field: formatPath(path).slice(0, 64), message: 'unknown field' }));
  return { ok: false, unknown, errors: issuesToFieldErrors(result.error.issues) };
}
