import { Controller, Get, Req } from '@nestjs/common';
import type { AuditPage } from '@pressluft/domain';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import { principalOf } from '../auth/auth.guard.js';
import { requireAdmin } from '../auth/policy.js';
import { findAuditRows } from './audit.repository.js';
import { parseAuditQuery } from './audit.query.js';

/** GET /auth/v1/audit: the audit log, admins only, newest first, filtered and paged (audit.query.ts). */
@Controller('auth/v1/audit')
export class AuditController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  async list(@Req() req: Request): Promise<AuditPage> {
    requireAdmin(principalOf(req), 'read the audit log');
    const query = parseAuditQuery(req.query);
    const rows = await findAuditRows(this.dataSource, query);
    const page = rows.slice(0, query.limit);
    const items = page.map((row) => ({
      id: row.id,
      at: row.at.toISOString(),
      subject: row.subject,
      verb: row.verb,
      path: row.path,
      code: row.code,
      ...(row.reason !== null ? { reason: row.reason } : {}),
      requestId: row.requestId,
      count: row.count,
    }));
    const last = page.at(-1);
    return rows.length > query.limit && last ? { items, next: last.id } : { items };
  }
}
