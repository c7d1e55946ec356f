import type { Logger } from '@pressluft/platform';
import type { BackupResult, CertificateResult, Command, CommandRef, SiteState } from '@pressluft/proto';
import type { FenceStore } from '../fence-store.js';
import type { BackupStoreAccess, SiteOperations, SiteSecretAccess, StepReporter } from '../site-operations.js';

type Payload = NonNullable<Command['payload']>;

/** A command's payload by its `$case` (provisionSite, deploySite, ...). */
export type PayloadOf = { [P in Payload as P['$case']]: P['value'] };
export type CommandCase = keyof PayloadOf;

/** What a handler gets besides its payload: the fenced command, the host, and where its steps report. */
export interface CommandContext {
  readonly ref: CommandRef;
  /** The site incarnation the command is for. */
  readonly siteId: string;
  readonly node: string;
  readonly host: SiteOperations;
  readonly fences: FenceStore;
  readonly report: StepReporter;
  /** BackupStore credentials for this command (gRPC over mutual TLS). */
  readonly stores: BackupStoreAccess;
  /** A site's write-only credentials for this command (gRPC over mutual TLS). */
  readonly siteSecrets: SiteSecretAccess;
  readonly logger: Logger;
  /** Date.now() when the command started running. */
  readonly started: number;
}

/** A successful command: the Succeeded event's message and site state; `deleted` marks the site's fence record a tombstone. */
export interface CommandOutcome {
  readonly message: string;
  readonly site?: SiteState;
  readonly deleted?: boolean;
  /** BackupSite: what it stored. */
  readonly backup?: BackupResult;
  /** IssueCertificate (acme, custom): the certificate now served. */
  readonly certificate?: CertificateResult;
}

export type CommandHandler<K extends CommandCase> = (payload: PayloadOf[K], context: CommandContext) => Promise<CommandOutcome>;

/** One handler per command payload: a new operation is a handler file and its line in COMMAND_HANDLERS. */
export type CommandHandlers = { readonly [K in CommandCase]: CommandHandler<K> };
