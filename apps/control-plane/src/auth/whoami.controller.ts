import { Controller, Get, Req } from '@nestjs/common';
import type { Request } from 'express';
import { principalOf } from './auth.guard.js';
import type { Principal } from './principal.js';

/** Who the caller's token says it is: its subject and role (the console shows only the controls the role may use; the API still decides). */
@Controller('auth/v1/whoami')
export class WhoAmIController {
  @Get()
  whoami(@Req() req: Request): Principal {
    const { subject, role } = principalOf(req);
    return { subject, role };
  }
}
