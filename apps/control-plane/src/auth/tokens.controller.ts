import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { TokenInfo } from '@pressluft/domain';
import type { Request } from 'express';
import { parseBody } from '../api/body.js';
import { withRequestAudit } from '../audit/request-audit.js';
import { principalOf } from './auth.guard.js';
import { requireAdmin } from './policy.js';
import { TokenService } from './token.service.js';

/** API tokens, admins only. The token text is shown once, in the create response. */
@Controller('auth/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokenService) {}

  @Get()
  async list(@Req() req: Request): Promise<{ items: TokenInfo[] }> {
    requireAdmin(principalOf(req), 'list API tokens');
    return { items: await this.tokens.list() };
  }

  @Post()
  @HttpCode(201)
  async create(@Req() req: Request): Promise<TokenInfo & { token: string }> {
    const principal = principalOf(req);
    requireAdmin(principal, 'create API tokens');
    const { value } = parseBody(req.body, req.headers['content-type'], 'object');
    const body = (value ?? {}) as { subject?: unknown; role?: unknown };
    const { token, info } = await withRequestAudit(req, principal.subject, 201, (audit) => this.tokens.create(body.subject, body.role, principal.subject, audit));
    return { ...info, token };
  }

  @Delete(':id')
  @HttpCode(200)
  async revoke(@Param('id') id: string, @Req() req: Request): Promise<TokenInfo> {
    const principal = principalOf(req);
    requireAdmin(principal, 'revoke API tokens');
    return withRequestAudit(req, principal.subject, 200, (audit) => this.tokens.revoke(id, audit));
  }
}
