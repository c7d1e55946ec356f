import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { kindByName, toWireObject, type KindInfo } from '@pressluft/domain';
import type { Request } from 'express';
import { withRequestAudit } from '../audit/request-audit.js';
import { principalOf } from '../auth/auth.guard.js';
import { authorize } from '../auth/policy.js';
import { ResolveCommand } from './operator.commands.js';

const COMMAND_KIND = kindByName('Command') as KindInfo;

/**
 * How an operator resolves a stalled or failed command: retry (a new command, same operation,
 * next fence) or abandon (the command counts as failed). ResolveCommandHandler holds the rules.
 */
@Controller('apis/pressluft.io/v1/commands/:name')
export class CommandsController {
  constructor(private readonly commands: CommandBus) {}

  @Post('retry')
  @HttpCode(201)
  retry(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    return this.resolve(name, 'retry', 201, req);
  }

  @Post('abandon')
  @HttpCode(200)
  abandon(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    return this.resolve(name, 'abandon', 200, req);
  }

  private async resolve(name: string, resolution: ResolveCommand['resolution'], code: number, req: Request): Promise<Record<string, unknown>> {
    const principal = principalOf(req);
    authorize(principal, 'update', COMMAND_KIND);
    const { subject } = principal;
    const command = await withRequestAudit(req, subject, code, (audit) => this.commands.execute(new ResolveCommand(name, resolution, { subject, audit })));
    return toWireObject(command);
  }
}
