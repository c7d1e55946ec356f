import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { joinTokenRequestSchema, parseRequest, type JoinTokenInfo } from '@pressluft/domain';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { insertAudit } from '../audit/audit.repository.js';
import type { AuditEntry } from '../audit/request-audit.js';
import { PressluftError } from '../common/errors.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { JoinTokenRow } from '../persistence/entities.js';

/** `plj_` + 32 random bytes: high entropy, so a plain SHA-256 is a safe thing to store. */
export const JOIN_TOKEN_PATTERN = /^plj_[A-Za-z0-9_-]{43}$/;
const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const hashJoinToken = (token: string): string => createHash('sha256').update(token).digest('hex');

function stateOf(row: JoinTokenRow, now: Date): JoinTokenInfo['state'] {
  if (row.usedAt) return 'Used';
  if (row.revokedAt) return 'Revoked';
  return row.expiresAt.getTime() <= now.getTime() ? 'Expired' : 'Pending';
}

const info = (row: JoinTokenRow, now: Date): JoinTokenInfo => ({
  id: row.id,
  node: row.node,
  state: stateOf(row, now),
  createdAt: row.createdAt.toISOString(),
  createdBy: row.createdBy,
  expiresAt: row.expiresAt.toISOString(),
  ...(row.usedAt ? { usedAt: row.usedAt.toISOString() } : {}),
  ...(row.revokedAt ? { revokedAt: row.revokedAt.toISOString() } : {}),
});

/** Why a join token was refused (for the log; the caller only learns that it was). */
export type JoinTokenRefusal = 'unknown' | 'other-node' | 'used' | 'revoked' | 'expired';

export class JoinTokenRefused extends Error {
  constructor(readonly refusal: JoinTokenRefusal) {
    super(`join token refused: ${refusal}`);
    this.name = 'JoinTokenRefused';
  }
}

/**
 * One-time, expiring tokens with which a node's agent enrolls (admins create them). Only a
 * SHA-256 of the token is stored; the text is shown once, in the create response.
 */
@Injectable()
export class JoinTokenService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A new join token; `audit`: the request's audit row, committed with the token. */
  async create(body: unknown, createdBy: string, audit?: AuditEntry): Promise<{ token: string; info: JoinTokenInfo }> {
    const { node, ttlSeconds } = validateRequest(body);
    const token = `plj_${randomBytes(32).toString('base64url')}`;
    const now = this.clock.now();
    const row = Object.assign(new JoinTokenRow(), {
      id: randomUUID(),
      node,
      tokenHash: hashJoinToken(token),
      createdAt: now,
      createdBy,
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
      usedAt: null,
      revokedAt: null,
    });
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(JoinTokenRow).insert(row);
      await insertAudit(manager, audit);
    });
    return { token, info: info(row, now) };
  }

  async list(): Promise<JoinTokenInfo[]> {
    const now = this.clock.now();
    const rows = await this.dataSource.getRepository(JoinTokenRow).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map((row) => info(row, now));
  }

  /**
   * Revokes a token that was not used yet; a used or revoked token stays as it is (idempotent).
   * `audit`: the request's audit row, committed with the revocation.
   */
  async revoke(id: string, audit?: AuditEntry): Promise<JoinTokenInfo> {
    if (!ID_PATTERN.test(id)) throw new PressluftError('NotFound', `join token "${id.slice(0, 40)}" not found`);
    const now = this.clock.now();
    const row = await this.dataSource.transaction(async (manager) => {
      const repository = manager.getRepository(JoinTokenRow);
      // Only a token not used yet (an enrollment consuming it at this moment wins, and stays valid).
      await repository.update({ id, usedAt: IsNull(), revokedAt: IsNull() }, { revokedAt: now });
      const found = await repository.findOneBy({ id });
      if (!found) throw new PressluftError('NotFound', `join token "${id}" not found`);
      await insertAudit(manager, audit);
      return found;
    });
    return info(row, now);
  }

  /**
   * Inside the enrollment's transaction: locks the token's row and marks it used, or throws
   * JoinTokenRefused. Rolled back with the transaction when anything later fails.
   */
  async consume(manager: EntityManager, token: string, node: string, now: Date): Promise<void> {
    if (!JOIN_TOKEN_PATTERN.test(token)) throw new JoinTokenRefused('unknown');
    const row = await manager
      .getRepository(JoinTokenRow)
      .createQueryBuilder('t')
      .setLock('pessimistic_write')
      .where('t.token_hash = :hash', { hash: hashJoinToken(token) })
      .getOne();
    if (!row) throw new JoinTokenRefused('unknown');
    if (row.usedAt) throw new JoinTokenRefused('used');
    if (row.revokedAt) throw new JoinTokenRefused('revoked');
    if (row.expiresAt.getTime() <= now.getTime()) throw new JoinTokenRefused('expired');
    if (row.node !== node) throw new JoinTokenRefused('other-node');
    await manager.getRepository(JoinTokenRow).update({ id: row.id }, { usedAt: now });
  }
}

function validateRequest(body: unknown): { node: string; ttlSeconds: number } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PressluftError('BadRequest', 'the join token request must be a JSON object', [{ field: '', message: 'must be a JSON object' }]);
  }
  const parsed = parseRequest(joinTokenRequestSchema, body);
  if (parsed.ok) return parsed.value;
  const causes = [...parsed.unknown, ...parsed.errors];
  throw new PressluftError('Invalid', `join token request is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
}
