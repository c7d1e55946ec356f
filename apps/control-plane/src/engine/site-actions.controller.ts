import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { kindByName, parseRequest, rollbackRequestSchema, toWireObject, type KindInfo } from '@pressluft/domain';
import type { Request } from 'express';
import { parseBody } from '../api/body.js';
import { withRequestAudit } from '../audit/request-audit.js';
import { principalOf } from '../auth/auth.guard.js';
import { authorize } from '../auth/policy.js';
import { PressluftError } from '../common/errors.js';
import { RequestSiteAction, type SiteActionRequest } from './operator.commands.js';

const SITE_KIND = kindByName('Site') as KindInfo;

/** The rollback request body (rollbackRequestSchema): nothing (the previous release) or {"release": "<id>"}. */
function releaseOf(req: Request): string | undefined {
  const raw = req.body as unknown;
  if (raw === undefined || (Buffer.isBuffer(raw) && raw.length === 0)) return undefined;
  const { value } = parseBody(raw, req.headers['content-type'], 'object');
  const parsed = parseRequest(rollbackRequestSchema, value);
  if (parsed.ok) return parsed.value.release;
  if (parsed.unknown.length > 0) throw new PressluftError('BadRequest', `unknown fields: ${parsed.unknown.map((e) => e.field).join(', ')}`, parsed.unknown);
  throw new PressluftError('Invalid', `Rollback is invalid: ${parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, parsed.errors);
}

/**
 * Site operations that are not spec changes, each a fenced command: POST
 * /apis/pressluft.io/v1/sites/{name}/rollback, /rotate-credentials and /check-drift.
 * RequestSiteActionHandler holds the rules.
 */
@Controller('apis/pressluft.io/v1/sites/:name')
export class SiteActionsController {
  constructor(private readonly commands: CommandBus) {}

  @Post('rollback')
  @HttpCode(201)
  rollback(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    return this.request(name, () => ({ type: 'rollback', release: releaseOf(req) }), req);
  }

  /** Drift now instead of at the node's next report: a CheckDrift command beside the site. */
  @Post('check-drift')
  @HttpCode(201)
  checkDrift(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    return this.request(name, () => ({ type: 'check-drift' }), req);
  }

  /** A new database password for the site, set on its node (the secret never leaves the node). */
  @Post('rotate-credentials')
  @HttpCode(201)
  rotateCredentials(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    return this.request(name, () => ({ type: 'rotate-credentials' }), req);
  }

  /** Authorised first, then the body is parsed (`action`), as before. */
  private async request(name: string, action: () => SiteActionRequest, req: Request): Promise<Record<string, unknown>> {
    const principal = principalOf(req);
    authorize(principal, 'update', SITE_KIND);
    const parsed = action();
    const { subject } = principal;
    const command = await withRequestAudit(req, subject, 201, (audit) => this.commands.execute(new RequestSiteAction(name, parsed, { subject, audit })));
    return toWireObject(command);
  }
}
