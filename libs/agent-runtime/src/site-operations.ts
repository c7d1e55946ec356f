import type { AcmeOrder, BackupResult, BackupSnapshots, BackupStoreAccessResponse, CertificateResult, NodeServiceHealth, SiteConfig, SiteHealth } from '@pressluft/proto';

/** Where a host step tells the runtime how far it got; progress also keeps the command's JetStream message alive. */
export interface StepReporter {
  /** `counts`: bytes and files done so far (backups, restores). */
  progress(step: string, percent: number, counts?: { readonly bytes: number; readonly files: number }): Promise<void>;
  log(line: string): Promise<void>;
}

export interface ProvisionResult {
  /** http://<first domain>/ */
  readonly url: string;
  /** The release `current` points at, e.g. 20261129T181500Z. */
  readonly currentRelease: string;
}

/** A deploy's write-only credentials, fetched over the agent's mutual-TLS channel for its command (never from the bus). */
export interface DeploySecrets {
  readonly gitToken?: string;
}

/** What a deploy or rollback leaves: the live release and every release on disk, newest first. */
export interface ReleasesResult {
  readonly currentRelease: string;
  readonly releases: string[];
}

/** A BackupStore as restic needs it: fetched per command over the agent's mutual-TLS channel, never from the bus. */
export type ResticStore = BackupStoreAccessResponse;

/** Where the runtime gets a store's repository and credentials for one command (NodeService.BackupStoreAccess). */
export interface BackupStoreAccess {
  access(store: string, command: string): Promise<ResticStore>;
}

/** The fields of a Site's write-only spec.credentials a node may fetch. */
export type SiteSecretField = 'tlsPrivateKey' | 'dnsApiToken' | 'gitToken';

/** Where the runtime gets a site's write-only credential for one command (NodeService.SiteSecretAccess). */
export interface SiteSecretAccess {
  access(site: string, field: SiteSecretField, command: string): Promise<string>;
}

/**
 * IssueCertificate on the host: an ACME order (key and CSR made on the node; http-01 answered
 * from a root-owned challenge directory the site's server block serves, or dns-01 through the
 * provider with `dnsApiToken`), a custom certificate (its chain and key), or removal. The site's
 * server block is rendered again (HTTPS, redirect) and WordPress's home and siteurl follow.
 */
export type HostCertificateRequest =
  | { readonly site: SiteConfig; readonly source: 'acme'; readonly order: AcmeOrder; readonly dnsApiToken?: string }
  | { readonly site: SiteConfig; readonly source: 'custom'; readonly certificatePem: string; readonly privateKeyPem: string }
  | { readonly site: SiteConfig; readonly source: 'remove' };

/** A failure the ACME server asks not to retry for a while (rateLimited with Retry-After). */
export interface HostCertificateOutcome {
  /** Undefined after removal. */
  readonly certificate: CertificateResult | undefined;
}

export interface HostBackupRequest {
  readonly name: string;
  readonly id: string;
  /** The Backup resource (tag backup=<name>). */
  readonly backup: string;
  readonly store: ResticStore;
}

export interface HostRestoreRequest {
  /** The target site (name, id, domains). */
  readonly site: SiteConfig;
  readonly backup: string;
  readonly snapshots: BackupSnapshots;
  /** The backup's site's domains: URLs are rewritten when they differ from the target's. */
  readonly sourceDomains: readonly string[];
  readonly store: ResticStore;
  /** What is restored: code (the release's files), database, uploads; empty: all three. */
  readonly parts: readonly RestorePart[];
  /** The commit the backup's release was built from (absent or '': none or unknown). */
  readonly gitCommit?: string;
}

export type RestorePart = 'code' | 'database' | 'uploads';

/** What a site's release and identity are on the node (reported in SiteState and NodeReports). */
export interface HostSiteIdentity {
  /** The commit the current release was built from; '' without code or when unknown. */
  readonly currentCommit: string;
  /** The site's deploy key's public half (OpenSSH); '' before it has one. */
  readonly deployPublicKey: string;
}

export interface ObservedHostSite extends HostSiteIdentity {
  readonly name: string;
  readonly id: string;
  /** '' when the site has no resolving `current`. */
  readonly currentRelease: string;
}

/**
 * The host boundary: what the agent does on its machine, one method per host operation
 * (SiteHost in production; ScriptedHost in the control plane's engine tests).
 */
export interface SiteOperations {
  provision(site: SiteConfig, report: StepReporter): Promise<ProvisionResult>;
  /** `secrets.gitToken`: the site's token when its GitSource says it has one (fetched for this command). */
  deploy(site: SiteConfig, report: StepReporter, secrets?: DeploySecrets): Promise<ReleasesResult>;
  /** release undefined: the one before current. */
  rollbackTo(name: string, id: string, release: string | undefined, report: StepReporter): Promise<ReleasesResult>;
  releases(name: string): Promise<{ current: string | undefined; releases: string[] }>;
  rotateDatabasePassword(name: string, id: string, report: StepReporter): Promise<{ rotatedAt: string }>;
  /** item -> sha256 hex of everything the node manages for the site (reads only). */
  fingerprints(name: string, id: string): Promise<Record<string, string>>;
  remove(name: string, id: string, report: StepReporter): Promise<void>;
  /** Backs the site up into the store (reads only; the site keeps serving). */
  backup(request: HostBackupRequest, report: StepReporter): Promise<BackupResult>;
  /** Restores a backup into the site: staged, health-checked, switched; any failure leaves the site as it was. */
  restore(request: HostRestoreRequest, report: StepReporter): Promise<ReleasesResult>;
  /**
   * CloneSite: provisions the new site (as provision) and restores the source's backup into it
   * (every part, URLs rewritten); the source site is never touched (its backup is the medium).
   * `gitToken`: the site's token when its config says it has one.
   */
  clone(request: HostRestoreRequest, report: StepReporter): Promise<ProvisionResult & ReleasesResult>;
  /** The site's current commit and deploy key (reads only). */
  identity(name: string, id: string): Promise<HostSiteIdentity>;
  /** IssueCertificate: installs (or removes) the site's certificate and serves it; the site keeps serving HTTP throughout. */
  certify(request: HostCertificateRequest, report: StepReporter): Promise<HostCertificateOutcome>;
  /** Empties the site's page cache (a deploy, rollback and restore do it themselves). */
  purgePageCache(name: string, id: string): Promise<void>;
  observe(): Promise<readonly ObservedHostSite[]>;
  /**
   * Keeps the site's processes running (its PHP-FPM master): one look, a restart when its
   * supervision says so. True when that supervision changed (a restart, a crash loop begun or over).
   */
  supervise(site: SiteConfig): Promise<boolean>;
  /**
   * WP-Cron: the site's due events run now (`wp cron event run --due-now` as the site user in its
   * jail and cgroup, within a hard timeout); a site not provisioned (yet) is left alone. Rejects
   * when the run fails (its exit and last line of output in the message).
   */
  runCron(site: SiteConfig): Promise<void>;
  /** The same for the node's services the agent keeps running (nginx, when it is the agent's). */
  superviseNode(): Promise<boolean>;
  /** The node's services, and how each of `sites` serves (probed now). */
  health(sites: readonly SiteConfig[]): Promise<{ sites: SiteHealth[]; services: NodeServiceHealth[] }>;
}
