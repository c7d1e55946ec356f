import type { Command } from '@pressluft/proto';
import { backupSite } from './backup-site.js';
import { checkDrift } from './check-drift.js';
import { cloneSite } from './clone-site.js';
import type { CommandCase, CommandContext, CommandHandlers, CommandOutcome, PayloadOf } from './command-handler.js';
import { converge } from './converge.js';
import { deleteSite } from './delete-site.js';
import { issueCertificate } from './issue-certificate.js';
import { restoreSite } from './restore-site.js';
import { rollback } from './rollback.js';
import { rotateCredentials } from './rotate-credentials.js';

export type { CommandCase, CommandContext, CommandHandler, CommandHandlers, CommandOutcome, PayloadOf } from './command-handler.js';

/** What the agent does for each command payload (one registration line per operation). */
export const COMMAND_HANDLERS: CommandHandlers = {
  provisionSite: converge('provision'),
  deploySite: converge('deploy'),
  rollbackSite: rollback,
  rotateCredentials,
  checkDrift,
  deleteSite,
  backupSite,
  restoreSite,
  issueCertificate,
  cloneSite,
};

/** Runs the handler registered for the payload's case. */
export function runCommand<K extends CommandCase>(handlers: CommandHandlers, kind: K, payload: PayloadOf[K], context: CommandContext): Promise<CommandOutcome> {
  return handlers[kind](payload, context);
}

/** The site incarnation a payload is for: a converge carries the whole configuration, the rest only the id. */
export function siteIdOf(payload: NonNullable<Command['payload']>): string {
  switch (payload.$case) {
    case 'provisionSite':
    case 'deploySite':
    case 'restoreSite':
    case 'issueCertificate':
      return payload.value.site?.id ?? '';
    case 'cloneSite':
      return payload.value.restore?.site?.id ?? '';
    case 'deleteSite':
    case 'rollbackSite':
    case 'rotateCredentials':
    case 'checkDrift':
    case 'backupSite':
      return payload.value.siteId;
  }
}
