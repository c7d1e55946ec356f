/**
 * The node agent's decisions about a command, as pure rules: whether a converge builds a
 * release, which host operations it runs, and which fingerprint items a partial converge sends.
 * Inputs are plain shapes (the agent maps its SiteConfig onto them), so no wire type leaks in.
 */

/** What a site's release is built from: a change here is a new release, anything else converges the configuration. */
export interface ReleaseSource {
  readonly wordpressVersion: string | undefined;
  readonly gitUrl: string | undefined;
  readonly gitRef: string | undefined;
}

/** The two commands that converge a site to its spec. */
export type ConvergeCommand = 'provision' | 'deploy';

/** A host operation a converge runs: configure the site (idempotent), then, when needed, build and switch to a new release. */
export type ConvergeStep = 'configure' | 'release';

/** A new release is built only when what it is built from changed since the last applied configuration. */
export function releaseSourceChanged(before: ReleaseSource | undefined, after: ReleaseSource): boolean {
  if (!before) return false;
  return before.wordpressVersion !== after.wordpressVersion || before.gitUrl !== after.gitUrl || before.gitRef !== after.gitRef;
}

/**
 * Does this converge build a release? A changed release source does (deploy or provision); so
 * does the first provision of a site with code (configure builds WordPress core only).
 */
export function needsRelease(command: ConvergeCommand, before: ReleaseSource | undefined, after: ReleaseSource): boolean {
  return releaseSourceChanged(before, after) || (command === 'provision' && before === undefined && Boolean(after.gitUrl));
}

/** The host operations a converge runs, in order. */
export function convergeSteps(command: ConvergeCommand, before: ReleaseSource | undefined, after: ReleaseSource): readonly ConvergeStep[] {
  return needsRelease(command, before, after) ? ['configure', 'release'] : ['configure'];
}

/** Fingerprint item keys (libs/domain FINGERPRINT_ITEMS labels the same ones). */
export const FINGERPRINT_KEYS = {
  serverBlock: 'nginx.serverBlock',
  fpmConfig: 'phpFpm.config',
  wpConfig: 'wpConfig',
  current: 'symlink.current',
  user: 'user.uid',
  database: 'database.present',
  databaseUser: 'database.user',
  grants: 'database.grants',
  redisUser: 'redis.user',
} as const;

/** What a credential rotation changes (it sends only these after it): wp-config.php and the database user. */
export const ROTATION_ITEMS: readonly string[] = [FINGERPRINT_KEYS.wpConfig, FINGERPRINT_KEYS.databaseUser, FINGERPRINT_KEYS.grants];
/** What a rollback changes: where `current` points. */
export const ROLLBACK_ITEMS: readonly string[] = [FINGERPRINT_KEYS.current];

/** The agent operations that end with the site's fingerprints in their Succeeded event. */
export type FingerprintingOperation = 'converge' | 'checkDrift' | 'rollback' | 'rotateCredentials';

/** The fingerprint items an operation sends: undefined is all of them (a complete set), otherwise only what it changed. */
export function fingerprintItemsAfter(operation: FingerprintingOperation): readonly string[] | undefined {
  switch (operation) {
    case 'rollback':
      return ROLLBACK_ITEMS;
    case 'rotateCredentials':
      return ROTATION_ITEMS;
    case 'converge':
    case 'checkDrift':
      return undefined;
  }
}

/** Only `items` of a fingerprint map (what a partial converge changed). */
export function pickItems(fingerprints: Readonly<Record<string, string>>, items: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(fingerprints).filter(([key]) => items.includes(key)));
}
