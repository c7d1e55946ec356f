/** The node agent's runtime: bus loop, fencing, per-site scheduling and the command handlers; the host is behind SiteOperations. */
export { Agent, type AgentObserver, type AgentOptions } from './agent.js';
export { publishCommandEvent, type BusSettings } from './bus.js';
export { CronLoop, DEFAULT_CRON_MS, type CronLoopOptions } from './cron-loop.js';
export { COMMAND_HANDLERS, type CommandCase, type CommandContext, type CommandHandler, type CommandHandlers, type CommandOutcome } from './commands/index.js';
export { asFailure, failure, type NamedFailure } from './failure.js';
export { FenceStore, type FenceRecord } from './fence-store.js';
export type { BackupStoreAccess, DeploySecrets, HostBackupRequest, HostCertificateOutcome, HostCertificateRequest, HostRestoreRequest, HostSiteIdentity, ObservedHostSite, RestorePart, ProvisionResult, ReleasesResult, ResticStore, SiteOperations, SiteSecretAccess, SiteSecretField, StepReporter } from './site-operations.js';
export { SerialQueue } from './site-queue.js';
