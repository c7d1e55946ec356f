import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { PressluftError } from '../common/errors.js';
import type { Principal } from './principal.js';
import { TokenService } from './token.service.js';

const PUBLIC = 'pressluft:public';

/** Marks a route that answers without a token (probes, version). */
export const Public = () => SetMetadata(PUBLIC, true);

const PRINCIPAL = Symbol('principal');
type AuthenticatedRequest = Request & { [PRINCIPAL]?: Principal };

export function principalOf(req: Request): Principal {
  const principal = (req as AuthenticatedRequest)[PRINCIPAL];
  if (!principal) throw new PressluftError('Unauthorized', 'Unauthorized');
  return principal;
}

/** The subject for the audit log: who asked, or "anonymous" when no valid token came. */
export function subjectOf(req: Request): string {
  return (req as AuthenticatedRequest)[PRINCIPAL]?.subject ?? 'anonymous';
}

/** Bearer tokens on every route not marked @Public(): missing or unknown -> 401. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    const principal = match?.[1] ? await this.tokens.verify(match[1]) : undefined;
    if (!principal) throw new PressluftError('Unauthorized', 'Unauthorized: a valid bearer token is required');
    req[PRINCIPAL] = principal;
    return true;
  }
}
