import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { kindByName, OPERATION_PHASE, toWireObject, type CommandSpec, type CommandStatus, type KindInfo, type Resource } from '@pressluft/domain';
import type { Request } from 'express';
import { auditEntryOf, insertAudit, markAudited } from '../audit/request-audit.js';
import { principalOf } from '../auth/auth.guard.js';
import { authorize } from '../auth/policy.js';
import { conflict, notFound } from '../common/errors.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf } from '../resources/resource.store.js';
import { issueCommand } from './command.issuer.js';
import { OutboxRelay } from './outbox.relay.js';

type CommandResource = Resource<CommandSpec, CommandStatus>;
const COMMAND_KIND = kindByName('Command') as KindInfo;

/**
 * How an operator resolves a stalled or failed command: retry (a new command, same operation,
 * next fence; for a destructive operation this is the explicit human decision the engine never
 * takes itself) or abandon (the command counts as failed and the site shows it).
 */
@Controller('apis/pressluft.io/v1/commands/:name')
export class CommandsController {
  constructor(
    private readonly store: ResourceStore,
    private readonly relay: OutboxRelay,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('retry')
  @HttpCode(201)
  async retry(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    const principal = principalOf(req);
    authorize(principal, 'update', COMMAND_KIND);
    const now = this.clock.now();
    const audit = auditEntryOf(req, principal.subject, 201);
    const issued = await this.store.transaction(async (tx) => {
      const command = await this.resolvable(tx.get('Command', name, { lock: true }), name);
      const site = await tx.get('Site', command.spec.site, { lock: true });
      if (!site) throw notFound('sites', command.spec.site);
      if (site.status.fence !== command.spec.fence) throw conflict('commands', name, `a newer command (fence ${site.status.fence}) exists for site ${site.metadata.name}`);
      await tx.update(command, { ...writeOf(command), status: { ...command.status, state: 'FAILED', reason: 'RetriedByOperator', message: `retried by ${principal.subject}`, finishedAt: now.toISOString() } }, now);
      // A FAILED site goes back into the operation's phase, so the outcome of the retry moves it
      // (to ACTIVE or FAILED again); a stalled one is still in that phase.
      const phase = site.status.phase === 'FAILED' ? (OPERATION_PHASE[command.spec.operation] ?? site.status.phase) : site.status.phase;
      const next = await issueCommand(tx, site, command.spec.node, command.spec.operation, phase, now);
      await recordEvent(tx, site, 'Normal', 'CommandRetried', `${command.spec.operation} retried by ${principal.subject}: fence ${command.spec.fence} -> ${next.spec.fence}`, now);
      await insertAudit(tx.manager, audit);
      return next;
    });
    markAudited(req);
    this.relay.poke();
    return toWireObject(issued);
  }

  @Post('abandon')
  @HttpCode(200)
  async abandon(@Param('name') name: string, @Req() req: Request): Promise<Record<string, unknown>> {
    const principal = principalOf(req);
    authorize(principal, 'update', COMMAND_KIND);
    const now = this.clock.now();
    const audit = auditEntryOf(req, principal.subject, 200);
    const abandoned = await this.store.transaction(async (tx) => {
      const command = await this.resolvable(tx.get('Command', name, { lock: true }), name);
      const updated = await tx.update(command, { ...writeOf(command), status: { ...command.status, state: 'FAILED', reason: 'Abandoned', message: `abandoned by ${principal.subject}`, finishedAt: now.toISOString() } }, now);
      const site = await tx.get('Site', command.spec.site);
      if (site) await recordEvent(tx, site, 'Warning', 'CommandAbandoned', `${command.spec.operation} (fence ${command.spec.fence}) abandoned by ${principal.subject}`, now);
      await insertAudit(tx.manager, audit);
      return updated;
    });
    markAudited(req);
    return toWireObject(abandoned);
  }

  /** Only a stalled or failed command can be resolved; a running one is still someone's work. */
  private async resolvable(found: Promise<CommandResource | undefined>, name: string): Promise<CommandResource> {
    const command = await found;
    if (!command) throw notFound('commands', name);
    if (command.status.state !== 'STALLED' && command.status.state !== 'FAILED' && command.status.state !== 'REJECTED') {
      throw conflict('commands', name, `it is ${command.status.state}; only STALLED, FAILED or REJECTED commands can be retried or abandoned`);
    }
    return command;
  }
}
