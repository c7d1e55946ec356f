import { Command } from '@nestjs/cqrs';
import type { ResourceOf } from '@pressluft/domain';
import type { AuditEntry } from '../audit/request-audit.js';

/** Who asks, and the audit row the accepted request commits with its change (none outside a request). */
export interface Requester {
  readonly subject: string;
  readonly audit: AuditEntry | undefined;
}

/** A site operation that is not a spec change; each becomes a fenced command beside or on the site. */
export type SiteActionRequest = { readonly type: 'rollback'; readonly release: string | undefined } | { readonly type: 'check-drift' } | { readonly type: 'rotate-credentials' };

/** POST /sites/{name}/{rollback,check-drift,rotate-credentials}: the command issued. */
export class RequestSiteAction extends Command<ResourceOf<'Command'>> {
  constructor(
    readonly site: string,
    readonly action: SiteActionRequest,
    readonly requester: Requester,
  ) {
    super();
  }
}

/**
 * POST /commands/{name}/{retry,abandon}: how an operator resolves a stalled or failed command.
 * Retry answers with the new command, abandon with the abandoned one.
 */
export class ResolveCommand extends Command<ResourceOf<'Command'>> {
  constructor(
    readonly command: string,
    readonly resolution: 'retry' | 'abandon',
    readonly requester: Requester,
  ) {
    super();
  }
}
