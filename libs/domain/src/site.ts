import { z } from 'zod';
import { CRON_PATTERN, validateCron } from './cron.js';
import {
  conditionsSchema,
  domainSchema,
  duplicates,
  labelsSchema,
  nameSchema,
  plainTextSchema,
  printableTextSchema,
  reasonSchema,
  timestampSchema,
} from './field-schemas.js';
import {
  CPU_PERCENT_PATTERN,
  MEMORY_QUANTITY_PATTERN,
  PHP_SIZE_PATTERN,
  cpuToPercent,
  memoryToMebibytes,
  phpSizeToMegabytes,
} from './quantities.js';
import { jsonEqual } from './json.js';
import { SITE_PHASES } from './site-lifecycle.js';

const HOST = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*';
const PORT = '(:[0-9]{1,5})?';
// Segments never start with '.', which rules out '.' and '..' (path traversal) by construction.
const SEGMENT = '[A-Za-z0-9_~][A-Za-z0-9._~-]*';
const REPO_PATH = `${SEGMENT}(/${SEGMENT})*`;

const SSH_USER = '[a-z_][a-z0-9_-]{0,31}';
/**
 * Where release code comes from: https (no credentials in the URL: secrets never live in a
 * spec; a private repository's token is the write-only spec.credentials.gitToken), ssh with the
 * site's deploy key (`ssh://git@host[:port]/path` or `git@host:path`; the server's host keys
 * pinned in spec.code.git.knownHosts) or a local repository (`file:///abs`, only where the
 * installation allows local repositories: see gitSourceProblem).
 */
export const GIT_URL_PATTERN = new RegExp(
  `^(https://${HOST}${PORT}/${REPO_PATH}/?|ssh://${SSH_USER}@${HOST}${PORT}/${REPO_PATH}/?|${SSH_USER}@${HOST}:${REPO_PATH}/?|file:///${REPO_PATH}/?)$`,
);

/** known_hosts lines: `host[,host] keytype base64` (or `[host]:port ...`), no markers, no options. */
export const KNOWN_HOSTS_PATTERN = /^((\[[A-Za-z0-9.:-]{1,253}\]:[0-9]{1,5}|[A-Za-z0-9.:-]{1,253})(,(\[[A-Za-z0-9.:-]{1,253}\]:[0-9]{1,5}|[A-Za-z0-9.:-]{1,253}))* (ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/]{16,2048}={0,3}( [ -~]{0,200})?\n?)+$/;

/** Whether a git URL is an ssh one (the site's deploy key, pinned host keys). */
export function isSshGitUrl(url: string): boolean {
  return url.startsWith('ssh://') || (!url.includes('://') && /^[a-z_][a-z0-9_-]{0,31}@/.test(url));
}

/** A branch, tag or commit: git's ref rules, narrowed to a safe character set. */
export const GIT_REF_PATTERN = /^(?![-/.])(?!.*\.\.)(?!.*\/\/)(?!.*\/\.)(?!.*\/$)(?!.*\.lock$)(?!.*\.$)[A-Za-z0-9._/-]{1,200}$/;

export const WORDPRESS_VERSION_PATTERN = /^[1-9][0-9]?\.[0-9]{1,2}(\.[0-9]{1,3})?$/;
export const WORDPRESS_USER_PATTERN = /^[a-z][a-z0-9_.-]{2,59}$/;
export const EMAIL_PATTERN =
  /^(?=.{3,254}$)[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
export const LOCALE_PATTERN = /^[a-z]{2,3}(_[A-Z]{2})?$/;
/** Release ids are the UTC timestamps of their directories: 20261124T101500 (optionally .sss and Z). */
export const RELEASE_ID_PATTERN = /^[0-9]{8}T[0-9]{6}(\.[0-9]{1,9})?Z?$/;
export const SITE_URL_PATTERN = new RegExp(`^https?://${HOST}${PORT}(/[A-Za-z0-9._~/-]*)?$`);

const phpSize = (min: number, max: number, label: string) =>
  z
    .string()
    .regex(PHP_SIZE_PATTERN, 'must be a size like 256M or 1G')
    .superRefine((value, ctx) => {
      const mb = phpSizeToMegabytes(value);
      if (mb !== undefined && (mb < min || mb > max)) ctx.addIssue({ code: 'custom', message: `must be between ${label}` });
    });

export const SITE_ENVIRONMENTS = ['production', 'staging'] as const;
export const DRIFT_POLICIES = ['Observe', 'Remediate'] as const;
export const PHP_VERSIONS = ['8.2'] as const;

export const wordpressSchema = z.strictObject({
  version: z.string().regex(WORDPRESS_VERSION_PATTERN, 'must be a WordPress version like 6.1 or 6.4.2'),
  title: plainTextSchema(100),
  adminUser: z
    .string()
    .regex(WORDPRESS_USER_PATTERN, "must be 3-60 characters: a lower-case letter, then lower-case letters, digits, '_', '.' or '-'"),
  adminEmail: z.string().regex(EMAIL_PATTERN, 'must be an email address like ops@example.test'),
  locale: z.string().regex(LOCALE_PATTERN, 'must be a WordPress locale like de_DE or en').optional(),
  /** xmlrpc.php answers only when true (pingbacks, the mobile app); nginx refuses it otherwise. */
  xmlrpc: z.boolean().optional(),
});

export const gitSourceSchema = z
  .strictObject({
    url: z
      .string()
      .max(512)
      .regex(
        GIT_URL_PATTERN,
        'must be an https://, ssh://user@host/path, user@host:path or file:///path URL without credentials or ".." segments',
      ),
    ref: z
      .string()
      .regex(GIT_REF_PATTERN, "must be a branch, tag or commit: 1-200 characters of letters, digits, '.', '_', '/' and '-', no '..', not starting with '-'"),
    /** ssh: the server's host keys (known_hosts lines), required: the node trusts no other key. */
    knownHosts: z.string().max(16 * 1024).regex(KNOWN_HOSTS_PATTERN, 'must be known_hosts lines: "host keytype base64key"').optional(),
    /** https with spec.credentials.gitToken: the user name sent with the token (default x-access-token). */
    username: z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'must be 1-128 letters, digits and ._@-').optional(),
  })
  .superRefine((git, ctx) => {
    if (!GIT_URL_PATTERN.test(git.url)) return;
    const ssh = isSshGitUrl(git.url);
    if (ssh && git.knownHosts === undefined) ctx.addIssue({ code: 'custom', path: ['knownHosts'], message: "is required for an ssh URL (the server's pinned host keys)" });
    if (!ssh && git.knownHosts !== undefined) ctx.addIssue({ code: 'custom', path: ['knownHosts'], message: 'is only allowed with an ssh URL' });
    if (!git.url.startsWith('https://') && git.username !== undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'is only allowed with an https URL' });
  });
export type GitSourceSpec = z.infer<typeof gitSourceSchema>;

export const phpSettingsSchema = z.strictObject({
  version: z.enum(PHP_VERSIONS).optional(),
  memoryLimit: phpSize(32, 4096, '32M and 4G').default('256M'),
  maxChildren: z.int().min(1).max(200).default(5),
  uploadMaxSize: phpSize(1, 4096, '1M and 4G').optional(),
});

export const siteResourcesSchema = z.strictObject({
  cpu: z
    .string()
    .regex(CPU_PERCENT_PATTERN, 'must be a percentage of one CPU core like 50% or 200%')
    .superRefine((value, ctx) => {
      const percent = cpuToPercent(value);
      if (percent !== undefined && percent > 800) ctx.addIssue({ code: 'custom', message: 'must be between 1% and 800%' });
    })
    .default('100%'),
  memory: z
    .string()
    .regex(MEMORY_QUANTITY_PATTERN, 'must be a memory quantity like 512Mi or 2Gi')
    .superRefine((value, ctx) => {
      const mi = memoryToMebibytes(value);
      if (mi !== undefined && (mi < 64 || mi > 64 * 1024)) ctx.addIssue({ code: 'custom', message: 'must be between 64Mi and 64Gi' });
    })
    .default('512Mi'),
});

export const cronScheduleSchema = z
  .string()
  .max(100)
  .regex(CRON_PATTERN, 'must be a cron schedule of five fields like "0 3 * * *", or @hourly, @daily, @weekly, @monthly')
  .superRefine((value, ctx) => {
    if (!CRON_PATTERN.test(value)) return;
    const problem = validateCron(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * spec.backup: where the site's backups go (a BackupStore; default `local`), when they are taken
 * (cron, UTC; none: only manual and mandatory ones), how many are kept, how long a pre-delete
 * backup outlives the site, and the explicit opt-out of the pre-delete backup.
 */
export const backupPolicySchema = z.strictObject({
  store: nameSchema.optional(),
  schedule: cronScheduleSchema.optional(),
  retention: z
    .strictObject({
      daily: z.int().min(0).max(365).default(7),
      weekly: z.int().min(0).max(104).default(4),
      monthly: z.int().min(0).max(120).default(0),
    })
    .prefault({}),
  /** Days a pre-delete backup is kept after the site is gone. */
  preDeleteKeepDays: z.int().min(1).max(3650).default(30),
  /** Delete without the mandatory backup (the audit log records who set it). */
  skipPreDeleteBackup: z.boolean().default(false),
});

export const TLS_MODES = ['acme', 'custom', 'off'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
export const ACME_CHALLENGES = ['http-01', 'dns-01'] as const;
export type AcmeChallenge = (typeof ACME_CHALLENGES)[number];
/**
 * DNS-01 providers: cloudflare (its API with a scoped token), challtestsrv (Pebble's test DNS
 * server: only on nodes whose agent names one, i.e. tests and `tools/dev up`).
 */
export const DNS_PROVIDERS = ['cloudflare', 'challtestsrv'] as const;
export type DnsProvider = (typeof DNS_PROVIDERS)[number];

/** One PEM certificate chain (leaf first): public data, so it may live in the spec. */
export const PEM_CHAIN_PATTERN = /^(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?)+$/;
export const PEM_PRIVATE_KEY_PATTERN = /^-----BEGIN (RSA |EC )?PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END (RSA |EC )?PRIVATE KEY-----\r?\n?$/;
/** A provider's API token: no whitespace or control characters. */
export const API_TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]{8,512}$/;

/**
 * spec.tls: how the site gets its certificate. acme (default): one certificate for all of
 * spec.domains from the control plane's ACME directory, its private key made on the node and
 * never leaving it; http-01 (default) is answered by the node's nginx, dns-01 by a DNS provider
 * with the write-only spec.credentials.dnsApiToken. custom: the site brings its certificate (a
 * public chain here, its key write-only in spec.credentials.tlsPrivateKey), e.g. a Cloudflare
 * origin certificate. off: HTTP only. redirect: HTTP answers 301 to HTTPS once the certificate is
 * installed (never before). hsts: the header, opt-in (present = on).
 */
export const siteTlsSchema = z
  .strictObject({
    mode: z.enum(TLS_MODES).default('acme'),
    acme: z
      .strictObject({
        challenge: z.enum(ACME_CHALLENGES).default('http-01'),
        dns: z.strictObject({ provider: z.enum(DNS_PROVIDERS), zone: domainSchema.optional() }).optional(),
      })
      .prefault({}),
    custom: z.strictObject({ certificate: z.string().max(64 * 1024).regex(PEM_CHAIN_PATTERN, 'must be a PEM certificate chain, leaf first') }).optional(),
    redirect: z.boolean().default(true),
    hsts: z
      .strictObject({
        maxAgeSeconds: z.int().min(0).max(63_072_000).default(31_536_000),
        includeSubDomains: z.boolean().default(false),
        preload: z.boolean().default(false),
      })
      .optional(),
  })
  .superRefine((tls, ctx) => {
    if (tls.mode === 'acme' && tls.acme.challenge === 'dns-01' && !tls.acme.dns) ctx.addIssue({ code: 'custom', path: ['acme', 'dns'], message: 'is required for the dns-01 challenge' });
    if (tls.mode === 'custom' && !tls.custom) ctx.addIssue({ code: 'custom', path: ['custom'], message: 'is required when mode is custom' });
    if (tls.mode !== 'custom' && tls.custom) ctx.addIssue({ code: 'custom', path: ['custom'], message: 'is only allowed when mode is custom' });
  });
export type SiteTls = z.infer<typeof siteTlsSchema>;

/** spec.credentials: write-only; the API stores them encrypted (resource_secrets) and never returns them. */
/** A write-only field: its value, or "" to remove the stored one (absent: the stored one stays). */
const orEmpty = (pattern: RegExp) => new RegExp(`^$|${pattern.source}`);
export const siteCredentialsSchema = z.strictObject({
  tlsPrivateKey: z.string().max(16 * 1024).regex(orEmpty(PEM_PRIVATE_KEY_PATTERN), 'must be a PEM private key (unencrypted), or "" to remove the stored one').optional(),
  dnsApiToken: z.string().regex(orEmpty(API_TOKEN_PATTERN), 'must be an API token: 8-512 letters, digits and ._~+/=-, or "" to remove the stored one').optional(),
  /** https git sources of private repositories: the token sent as the password (with spec.code.git.username). */
  gitToken: z.string().regex(orEmpty(API_TOKEN_PATTERN), 'must be a token: 8-512 letters, digits and ._~+/=-, or "" to remove the stored one').optional(),
});
export type SiteCredentials = z.infer<typeof siteCredentialsSchema>;

/**
 * spec.cache.page: nginx's full-page cache for the site (its own zone and directory). enabled
 * defaults to on for production and off for staging (pageCacheEnabled).
 */
export const pageCacheSchema = z.strictObject({
  enabled: z.boolean().optional(),
  size: z
    .string()
    .regex(MEMORY_QUANTITY_PATTERN, 'must be a size like 256Mi or 1Gi')
    .superRefine((value, ctx) => {
      const mi = memoryToMebibytes(value);
      if (mi !== undefined && (mi < 16 || mi > 64 * 1024)) ctx.addIssue({ code: 'custom', message: 'must be between 16Mi and 64Gi' });
    })
    .default('256Mi'),
  /** How long a cached 200/301 page is served (404s: one minute at most). */
  ttlSeconds: z.int().min(10).max(7 * 24 * 3600).default(600),
});

export const siteSpecSchema = z.strictObject({
  environment: z.enum(SITE_ENVIRONMENTS).default('production'),
  domains: z
    .array(domainSchema)
    .min(1)
    .max(50)
    .superRefine((domains, ctx) => duplicates(domains, ctx, 'duplicate domain')),
  /**
   * Optional binding; without it the scheduler picks a node (planner/pick-node.ts). A pin skips
   * every filter of the scheduler (readiness, cordon, selector, capacity): the operator decided.
   */
  nodeName: nameSchema.optional(),
  /** Where the scheduler may put the site: only on nodes with every label of nodeSelector (ignored with spec.nodeName). */
  placement: z
    .strictObject({
      nodeSelector: labelsSchema.refine((selector) => Object.keys(selector).length <= 16, 'must have at most 16 labels').optional(),
    })
    .optional(),
  wordpress: wordpressSchema,
  code: z.strictObject({ git: gitSourceSchema }).optional(),
  php: phpSettingsSchema.prefault({}),
  resources: siteResourcesSchema.prefault({}),
  backup: backupPolicySchema.optional(),
  /** The site's database: its password is rotated on this schedule (UTC) by the node; on demand through POST .../rotate-credentials. */
  database: z.strictObject({ rotation: z.strictObject({ schedule: cronScheduleSchema }).optional() }).optional(),
  drift: z.strictObject({ policy: z.enum(DRIFT_POLICIES).default('Observe') }).prefault({}),
  releases: z.strictObject({ keep: z.int().min(1).max(50).default(5) }).prefault({}),
  /** redis: the site's own Redis user on its node (keys under its prefix only) and wp-config.php wired for an object-cache drop-in. */
  cache: z.strictObject({ redis: z.boolean().optional(), page: pageCacheSchema.optional() }).optional(),
  /** Absent: the defaults (siteTls): an ACME certificate by http-01, redirect on, no HSTS. */
  tls: siteTlsSchema.optional(),
  /** Write-only (see siteCredentialsSchema): taken out by the API before anything is stored. */
  credentials: siteCredentialsSchema.optional(),
  /**
   * Where a new site's content comes from (immutable once created). clone: a copy of another
   * site (its files, database and uploads at one backup, URLs rewritten to this site's domains);
   * the source is read, never written.
   */
  source: z.strictObject({ clone: z.strictObject({ site: nameSchema }) }).optional(),
});

/** spec.tls with its defaults. */
export function siteTls(spec: Pick<SiteSpec, 'tls'>): SiteTls {
  return spec.tls ?? siteTlsSchema.parse({});
}

/** spec.cache.page.enabled, defaulted: on for production, off for staging. */
export function pageCacheEnabled(spec: Pick<SiteSpec, 'environment' | 'cache'>): boolean {
  return spec.cache?.page?.enabled ?? spec.environment === 'production';
}

export const releaseIdSchema = z.string().regex(RELEASE_ID_PATTERN, 'must be a release id like 20261124T101500');

export const SITE_HEALTH_STATES = ['UNKNOWN', 'SERVING', 'NOT_SERVING'] as const;

/**
 * How the site serves on its node, as its agent last saw it (libs/domain site-health.ts): only
 * what a transition is about (no probe latency), so a periodic snapshot that says the same
 * writes nothing. observedAt is when the agent took the snapshot that last changed it.
 */
export const siteHealthSchema = z.strictObject({
  state: z.enum(SITE_HEALTH_STATES),
  /** When NOT_SERVING: HttpStatus, Unreachable, NodeServiceDown or ProcessDown. */
  reason: reasonSchema.optional(),
  message: printableTextSchema(256).optional(),
  /** The last probe's HTTP status (absent: no answer). */
  httpStatus: z.int().min(100).max(599).optional(),
  /** The site's PHP-FPM master runs. */
  processUp: z.boolean(),
  /** Restarts of the PHP-FPM master by the agent since the agent started. */
  restarts: z.int().min(0).max(1_000_000_000),
  crashLooping: z.boolean(),
  /** How the PHP-FPM master last ended (e.g. "killed by SIGKILL"). */
  lastExit: printableTextSchema(128).optional(),
  observedAt: timestampSchema,
});

export const CERTIFICATE_SOURCES = ['acme', 'custom'] as const;

/** The certificate installed on the node (what its agent reported; never the key). */
export const installedCertificateSchema = z.strictObject({
  source: z.enum(CERTIFICATE_SOURCES),
  domains: z.array(domainSchema).max(100),
  issuer: printableTextSchema(512),
  serialNumber: z.string().regex(/^[0-9A-Fa-f:]{1,128}$/),
  fingerprintSha256: z.string().regex(/^[0-9a-f]{64}$/),
  notBefore: timestampSchema,
  notAfter: timestampSchema,
  /** nginx staples OCSP answers (the certificate names an OCSP responder). */
  ocspStapling: z.boolean().default(false),
});
export type InstalledCertificate = z.infer<typeof installedCertificateSchema>;

/**
 * status.certificate: the installed certificate, when the next issuance is due (renewal), and the
 * failures since the last success (backoff: no issuance before nextAttemptAt).
 */
export const certificateStatusSchema = z.strictObject({
  installed: installedCertificateSchema.optional(),
  /** When a renewal is due (two thirds into the installed certificate's lifetime). */
  renewAt: timestampSchema.optional(),
  /** The IssueCertificate in flight; cleared once its outcome is recorded here. */
  command: nameSchema.optional(),
  /** Consecutive failed issuances. */
  failures: z.int().min(0).default(0),
  lastAttemptAt: timestampSchema.optional(),
  nextAttemptAt: timestampSchema.optional(),
  lastError: z.strictObject({ reason: reasonSchema, message: printableTextSchema(1024) }).optional(),
});
export type CertificateStatus = z.infer<typeof certificateStatusSchema>;

/** An IPv4 or IPv6 address as resolvers print it. */
const ipAddressSchema = z.string().max(45).regex(/^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:]{2,39}(%[A-Za-z0-9]+)?)$/, 'must be an IPv4 or IPv6 address');

/** status.dns: where the domains must point and where they point now (condition DNSReady). */
export const dnsStatusSchema = z.strictObject({
  /** The addresses every domain must resolve to (the node's public or the site's floating address). */
  expected: z.array(ipAddressSchema).max(16),
  domains: z
    .array(z.strictObject({ name: domainSchema, addresses: z.array(ipAddressSchema).max(32), ready: z.boolean(), error: printableTextSchema(256).optional() }))
    .max(50),
  checkedAt: timestampSchema,
});
export type DnsStatus = z.infer<typeof dnsStatusSchema>;

/** Whether write-only credentials are stored, which, and when they last changed (never the values). */
export const SITE_CREDENTIAL_FIELDS = ['tlsPrivateKey', 'dnsApiToken', 'gitToken'] as const;
export type SiteCredentialField = (typeof SITE_CREDENTIAL_FIELDS)[number];
export const siteCredentialsStateSchema = z.strictObject({
  fields: z.array(z.enum(SITE_CREDENTIAL_FIELDS)).max(SITE_CREDENTIAL_FIELDS.length),
  updatedAt: timestampSchema.optional(),
  version: z.int().min(0).default(0),
});

export const siteStatusSchema = z.strictObject({
  phase: z.enum(SITE_PHASES).default('PENDING'),
  observedGeneration: z.int().min(0).default(0),
  conditions: conditionsSchema.default([]),
  nodeName: nameSchema.optional(),
  fence: z.int().min(0).default(0),
  currentRelease: releaseIdSchema.optional(),
  /** Newest first; the first entry after currentRelease is where a rollback goes. */
  releases: z.array(releaseIdSchema).max(50).default([]),
  url: z.string().max(512).regex(SITE_URL_PATTERN, 'must be an http(s) URL').optional(),
  /** When the node last set a new database password for the site (the password itself never leaves the node). */
  credentialsRotatedAt: timestampSchema.optional(),
  /** The cron run of spec.backup.schedule the newest scheduled Backup was made for (CronJob's lastScheduleTime): each run once. */
  lastScheduledBackup: timestampSchema.optional(),
  health: siteHealthSchema.optional(),
  certificate: certificateStatusSchema.optional(),
  dns: dnsStatusSchema.optional(),
  credentials: siteCredentialsStateSchema.optional(),
  /** The git commit the current release was built from (as its node reported). */
  currentCommit: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/).optional(),
  /** The site's deploy key (made on its node; register the public key with the git host). */
  deployKey: z.strictObject({ publicKey: z.string().max(1024).regex(/^ssh-ed25519 [A-Za-z0-9+/]{68}={0,2}( [ -~]{0,200})?$/), fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/) }).optional(),
  /** A clone (spec.source.clone): the Backup of the source it is made from, and how far it got. */
  clone: z.strictObject({ backup: nameSchema, completedAt: timestampSchema.optional() }).optional(),
});

export type SiteSpec = z.infer<typeof siteSpecSchema>;

/**
 * Whether a spec change does nothing but set or clear spec.backup.skipPreDeleteBackup: the one
 * change a site being deleted still takes (the way on after its pre-delete backup failed).
 */
export function onlySkipsPreDeleteBackup(before: SiteSpec, after: SiteSpec): boolean {
  const policy = (spec: SiteSpec) => ({ ...(spec.backup ?? backupPolicySchema.parse({})), skipPreDeleteBackup: false });
  return jsonEqual({ ...before, backup: policy(before) }, { ...after, backup: policy(after) });
}
export type SiteStatus = z.infer<typeof siteStatusSchema>;
export type SiteHealthStatus = z.infer<typeof siteHealthSchema>;
