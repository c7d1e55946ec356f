import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { JoinTokenInfo } from '@pressluft/domain';
import type { Request } from 'express';
import { parseBody } from '../api/body.js';
import { withRequestAudit } from '../audit/request-audit.js';
import { principalOf } from '../auth/auth.guard.js';
import { requireAdmin } from '../auth/policy.js';
import { JoinTokenService } from './join-token.service.js';

/** Join tokens for node enrollment, admins only. The token text is shown once, in the create response. */
@Controller('auth/v1/jointokens')
export class JoinTokensController {
  constructor(private readonly tokens: JoinTokenService) {}

  @Get()
  async list(@Req() req: Request): Promise<{ items: JoinTokenInfo[] }> {
    requireAdmin(principalOf(req), 'list join tokens');
    return { items: await this.tokens.list() };
  }

  @Post()
  @HttpCode(201)
  async create(@Req() req: Request): Promise<JoinTokenInfo & { token: string }> {
    const principal = principalOf(req);
    requireAdmin(principal, 'create join tokens');
    const { value } = parseBody(req.body, req.headers['content-type'], 'object');
    const { token, info } = await withRequestAudit(req, principal.subject, 201, (audit) => this.tokens.create(value, principal.subject, audit));
    return { ...info, token };
  }

  @Delete(':id')
  @HttpCode(200)
  async revoke(@Param('id') id: string, @Req() req: Request): Promise<JoinTokenInfo> {
    const principal = principalOf(req);
    requireAdmin(principal, 'revoke join tokens');
    return withRequestAudit(req, principal.subject, 200, (audit) => this.tokens.revoke(id, audit));
  }
}
