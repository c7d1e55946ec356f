import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { parseRequest, tokenRequestSchema, type FieldError, type TokenInfo } from '@pressluft/domain';
import { DataSource } from 'typeorm';
import { insertAudit } from '../audit/audit.repository.js';
import type { AuditEntry } from '../audit/request-audit.js';
import { PressluftError } from '../common/errors.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ApiTokenRow } from '../persistence/entities.js';
import type { Principal, Role } from './principal.js';

/** `plt_` + 32 random bytes: high entropy, so a plain SHA-256 is a safe thing to store. */
const TOKEN_PATTERN = /^plt_[A-Za-z0-9_-]{43}$/;
/** Subjects with a meaning in the audit log: the bootstrap token's and the one for no token. */
const RESERVED_SUBJECTS: ReadonlySet<string> = new Set(['admin', 'anonymous']);

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

const info = (row: ApiTokenRow): TokenInfo => ({
  id: row.id,
  subject: row.subject,
  role: row.role,
  createdAt: row.createdAt.toISOString(),
  createdBy: row.createdBy,
  ...(row.revokedAt ? { revokedAt: row.revokedAt.toISOString() } : {}),
});

const invalidRequest = (causes: FieldError[]) =>
  new PressluftError('Invalid', `token request is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);

/** How long a verified token is trusted without asking PostgreSQL again (also the revocation delay on other replicas). */
const VERIFIED_TTL_MS = 5000;
const VERIFIED_MAX = 10_000;

@Injectable()
export class TokenService {
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The caller behind a bearer token, or undefined for an unknown, malformed or revoked one. */
  async verify(token: string): Promise<Principal | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.verified.get(hash);
    if (cached && cached.until > now) return cached.principal;
    const row = await this.dataSource.getRepository(ApiTokenRow).findOneBy({ tokenHash: hash });
    if (!row || row.revokedAt) {
      this.verified.delete(hash);
      return undefined;
    }
    const principal: Principal = { subject: row.subject, role: row.role };
    if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
    this.verified.set(hash, { principal, until: now + VERIFIED_TTL_MS });
    return principal;
  }

  /** A new token; `audit`: the request's audit row, committed with the token. */
  async create(subject: unknown, role: unknown, createdBy: string, audit?: AuditEntry): Promise<{ token: string; info: TokenInfo }> {
    const parsed = parseRequest(tokenRequestSchema, { subject, role });
    if (!parsed.ok) throw invalidRequest(parsed.errors);
    if (RESERVED_SUBJECTS.has(parsed.value.subject)) throw invalidRequest([{ field: 'subject', message: `"${parsed.value.subject}" is reserved` }]);
    const token = `plt_${randomBytes(32).toString('base64url')}`;
    const row = Object.assign(new ApiTokenRow(), { id: randomUUID(), ...parsed.value, tokenHash: hashToken(token), createdAt: this.clock.now(), createdBy, revokedAt: null });
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(ApiTokenRow).insert(row);
      await insertAudit(manager, audit);
    });
    return { token, info: info(row) };
  }

  /** Registers a token minted elsewhere (the bootstrap admin token file); idempotent. */
  async ensure(token: string, subject: string, role: Role): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) throw new Error('the bootstrap token is malformed (expected plt_ and 43 base64url characters)');
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(ApiTokenRow)
      .values({ id: randomUUID(), subject, role, tokenHash: hashToken(token), createdAt: this.clock.now(), createdBy: 'bootstrap', revokedAt: null })
      .orIgnore()
      .execute();
  }

  async list(): Promise<TokenInfo[]> {
    const rows = await this.dataSource.getRepository(ApiTokenRow).find({ order: { createdAt: 'ASC' } });
    return rows.map(info);
  }

  /** Revokes a token (idempotent); `audit`: the request's audit row, committed with the revocation. */
  async revoke(id: string, audit?: AuditEntry): Promise<TokenInfo> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new PressluftError('NotFound', `token "${id.slice(0, 40)}" not found`);
    const row = await this.dataSource.transaction(async (manager) => {
      const repository = manager.getRepository(ApiTokenRow);
      const found = await repository.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!found) throw new PressluftError('NotFound', `token "${id}" not found`);
      if (!found.revokedAt) {
        found.revokedAt = this.clock.now();
        await repository.update({ id }, { revokedAt: found.revokedAt });
      }
      await insertAudit(manager, audit);
      return found;
    });
    this.verified.delete(row.tokenHash);
    return info(row);
  }
}
