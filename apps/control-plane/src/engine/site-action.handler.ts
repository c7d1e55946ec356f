import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { busyOperation, TERMINAL_COMMAND_STATES, type ResourceOf, type SitePhase } from '@pressluft/domain';
import { insertAudit } from '../audit/audit.repository.js';
import { conflict, notFound } from '../common/errors.js';
import { recordEvent } from '../events/event.recorder.js';
import { CLOCK, type Clock } from '../infra/tokens.js';
import { ResourceStore, type ResourceTransaction } from '../resources/resource.store.js';
import { commandName, issueCommand, type Site } from './command.issuer.js';
import { RequestSiteAction, type SiteActionRequest } from './operator.commands.js';
import { OutboxRelay } from './outbox.relay.js';

type CommandResource = ResourceOf<'Command'>;

/** The site, locked, when it may take a new operation now: one in a phase of `phases`, on a node, no command in flight. */
async function idleSite(tx: ResourceTransaction, name: string, phases: readonly SitePhase[]): Promise<{ site: Site; node: string }> {
  const site = await tx.get('Site', name, { lock: true });
  if (!site) throw notFound('sites', name);
  if (site.metadata.deletionTimestamp) throw conflict('sites', name, 'the site is being deleted');
  const phase = site.status.phase;
  if (!phases.includes(phase)) throw conflict('sites', name, `the site is busy: ${busyOperation(phase) ?? phase.toLowerCase()} is in progress`);
  const node = site.status.nodeName;
  if (!node) throw conflict('sites', name, 'the site is not on a node yet');
  const latest = site.status.fence > 0 ? await tx.get('Command', commandName(name, site.status.fence)) : undefined;
  if (latest && !TERMINAL_COMMAND_STATES.includes(latest.status.state)) {
    throw conflict('sites', name, `the site is busy: ${latest.spec.operation} (${latest.metadata.name}) is ${latest.status.state}`);
  }
  return { site, node };
}

/**
 * Site operations that are not spec changes, each a fenced command (one mutation per site in
 * flight): rollback (RollbackSite; the site goes DEPLOYING), rotate-credentials (RotateCredentials
 * beside the ACTIVE site) and check-drift (CheckDrift beside the ACTIVE site: the node
 * fingerprints it now; the control plane compares the result with what it expects and sets the
 * Drifted condition). The command, its Event and the request's audit row commit together.
 */
@CommandHandler(RequestSiteAction)
export class RequestSiteActionHandler implements ICommandHandler<RequestSiteAction> {
  constructor(
    private readonly store: ResourceStore,
    private readonly relay: OutboxRelay,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ site: name, action, requester }: RequestSiteAction): Promise<CommandResource> {
    const now = this.clock.now();
    const issued = await this.store.transaction(async (tx) => {
      const command = await this.issue(tx, name, action, requester.subject, now);
      await insertAudit(tx.manager, requester.audit);
      return command;
    });
    this.relay.poke();
    return issued;
  }

  private async issue(tx: ResourceTransaction, name: string, action: SiteActionRequest, subject: string, now: Date): Promise<CommandResource> {
    switch (action.type) {
      case 'rollback': {
        const { release } = action;
        const { site, node } = await idleSite(tx, name, ['ACTIVE', 'FAILED']);
        const { currentRelease, releases } = site.status;
        if (release !== undefined) {
          if (release === currentRelease) throw conflict('sites', name, `release ${release} is the current release`);
          if (!releases.includes(release)) throw conflict('sites', name, `release ${release} is not on the node (releases: ${releases.join(', ') || 'none'})`);
        } else if (!releases.some((r) => currentRelease !== undefined && r < currentRelease)) {
          throw conflict('sites', name, `there is no release before ${currentRelease ?? 'the current one'} to roll back to`);
        }
        const command = await issueCommand(tx, site, node, 'RollbackSite', 'DEPLOYING', now, release ? { release } : {});
        await recordEvent(tx, site, 'Normal', 'RollbackRequested', `rollback to ${release ?? 'the previous release'} requested by ${subject}`, now);
        return command;
      }
      case 'check-drift': {
        // Drift is judged for ACTIVE sites only (a FAILED one has not been converged).
        const { site, node } = await idleSite(tx, name, ['ACTIVE']);
        return issueCommand(tx, site, node, 'CheckDrift', site.status.phase, now);
      }
      case 'rotate-credentials': {
        const { site, node } = await idleSite(tx, name, ['ACTIVE']);
        const command = await issueCommand(tx, site, node, 'RotateCredentials', site.status.phase, now);
        await recordEvent(tx, site, 'Normal', 'RotationRequested', `database credential rotation requested by ${subject}`, now);
        return command;
      }
    }
  }
}
