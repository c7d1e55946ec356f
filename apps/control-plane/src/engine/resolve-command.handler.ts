import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { OPERATION_PHASE, RUN_OF_OPERATION, type ResourceOf } from '@pressluft/domain';
import { cloneOptions } from './clone-options.js';
import { insertAudit } from '../audit/audit.repository.js';
import { conflict, notFound } from '../common/errors.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ResourceStore, writeOf, type ResourceTransaction } from '../resources/resource.store.js';
import { issueCommand } from './command.issuer.js';
import { ResolveCommand } from './operator.commands.js';
import { OutboxRelay } from './outbox.relay.js';

type CommandResource = ResourceOf<'Command'>;

/** Only a stalled or failed command can be resolved; a running one is still someone's work. */
async function resolvable(tx: ResourceTransaction, name: string): Promise<CommandResource> {
  const command = await tx.get('Command', name, { lock: true });
  if (!command) throw notFound('commands', name);
  if (command.status.state !== 'STALLED' && command.status.state !== 'FAILED' && command.status.state !== 'REJECTED') {
    throw conflict('commands', name, `it is ${command.status.state}; only STALLED, FAILED or REJECTED commands can be retried or abandoned`);
  }
  return command;
}

/**
 * Retry (a new command, same operation, next fence; for a destructive operation this is the
 * explicit human decision the engine never takes itself) or abandon (the command counts as
 * failed and the site shows it). The change, its Event and the request's audit row commit together.
 */
@CommandHandler(ResolveCommand)
export class ResolveCommandHandler implements ICommandHandler<ResolveCommand> {
  constructor(
    private readonly store: ResourceStore,
    private readonly relay: OutboxRelay,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ command: name, resolution, requester }: ResolveCommand): Promise<CommandResource> {
    const now = this.clock.now();
    const result = await this.store.transaction(async (tx) => {
      const command = await resolvable(tx, name);
      const outcome = resolution === 'retry' ? await this.retry(tx, command, requester.subject, now) : await this.abandon(tx, command, requester.subject, now);
      await insertAudit(tx.manager, requester.audit);
      return outcome;
    });
    if (resolution === 'retry') this.relay.poke();
    return result;
  }

  private async retry(tx: ResourceTransaction, command: CommandResource, subject: string, now: Date): Promise<CommandResource> {
    const name = command.metadata.name;
    const run = RUN_OF_OPERATION[command.spec.operation];
    if (run) throw conflict('commands', name, `it carries out ${run} ${command.spec.restore ?? command.spec.backup ?? ''}; abandon it and create a new ${run}`);
    const site = await tx.get('Site', command.spec.site, { lock: true });
    if (!site) throw notFound('sites', command.spec.site);
    if (site.status.fence !== command.spec.fence) throw conflict('commands', name, `a newer command (fence ${site.status.fence}) exists for site ${site.metadata.name}`);
    await tx.update(command, { ...writeOf(command), status: { ...command.status, state: 'FAILED', reason: 'RetriedByOperator', message: `retried by ${subject}`, finishedAt: now.toISOString() } }, now);
    // A FAILED site goes back into the operation's phase, so the outcome of the retry moves it
    // (to ACTIVE or FAILED again); a stalled one is still in that phase.
    const phase = site.status.phase === 'FAILED' ? (OPERATION_PHASE[command.spec.operation] ?? site.status.phase) : site.status.phase;
    // A clone is made again from the same source backup.
    const options = command.spec.operation === 'CloneSite' ? await cloneOptions(tx, site) : {};
    if (!options) throw conflict('commands', name, `the backup site ${site.metadata.name} is cloned from is gone or not SUCCEEDED; delete the site and create it again`);
    const next = await issueCommand(tx, site, command.spec.node, command.spec.operation, phase, now, options);
    await recordEvent(tx, site, 'Normal', 'CommandRetried', `${command.spec.operation} retried by ${subject}: fence ${command.spec.fence} -> ${next.spec.fence}`, now);
    return next;
  }

  private async abandon(tx: ResourceTransaction, command: CommandResource, subject: string, now: Date): Promise<CommandResource> {
    const updated = await tx.update(command, { ...writeOf(command), status: { ...command.status, state: 'FAILED', reason: 'Abandoned', message: `abandoned by ${subject}`, finishedAt: now.toISOString() } }, now);
    const site = await tx.get('Site', command.spec.site);
    if (site) await recordEvent(tx, site, 'Warning', 'CommandAbandoned', `${command.spec.operation} (fence ${command.spec.fence}) abandoned by ${subject}`, now);
    return updated;
  }
}
