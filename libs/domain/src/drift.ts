import { type CommandState, TERMINAL_COMMAND_STATES } from './command.js';
import { type SitePhase } from './site-lifecycle.js';

/**
 * Fingerprints of what a node manages for one site: item key -> lowercase sha256 hex of the
 * item's content or metadata, as the node computed it. Digests only: a secret-bearing file
 * (wp-config.php) is compared without anyone but the node ever seeing its content.
 */
export type Fingerprints = Readonly<Record<string, string>>;

/** The items a node fingerprints, in the order a drift summary names them, with human labels. */
export const FINGERPRINT_ITEMS: ReadonlyArray<{ readonly key: string; readonly label: string; readonly plural?: true }> = [
  { key: 'nginx.serverBlock', label: 'nginx server block' },
  { key: 'phpFpm.config', label: 'PHP-FPM configuration' },
  { key: 'wpConfig', label: 'wp-config.php' },
  { key: 'symlink.current', label: 'the current symlink' },
  { key: 'user.uid', label: 'Linux user (UID or site tree owner)' },
  { key: 'database.present', label: 'database' },
  { key: 'database.user', label: 'database user' },
  { key: 'database.grants', label: 'database grants', plural: true },
  { key: 'redis.user', label: 'Redis user (keys and commands)' },
];

export const FINGERPRINT_KEY_PATTERN = /^[a-z][A-Za-z0-9]{0,31}(\.[a-z][A-Za-z0-9]{0,31}){0,3}$/;
export const FINGERPRINT_DIGEST_PATTERN = /^[0-9a-f]{64}$/;
/** More items than a node ever manages per site means something is wrong with the report. */
const MAX_ITEMS = 64;

/** The well-formed entries of a node's map (keys like nginx.serverBlock, sha256 hex values); others are dropped. */
export function wellFormedFingerprints(map: Readonly<Record<string, string>>): Fingerprints {
  const entries = Object.entries(map).filter(([key, digest]) => FINGERPRINT_KEY_PATTERN.test(key) && FINGERPRINT_DIGEST_PATTERN.test(digest));
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, MAX_ITEMS));
}

/**
 * What differs between what the control plane expects (the fingerprints of the site's last
 * converge) and what the node observed now: one short, secret-free line per item, in
 * FINGERPRINT_ITEMS order (unknown items after, by key). Empty: no drift.
 */
export function compareFingerprints(expected: Fingerprints, observed: Fingerprints): string[] {
  const known = new Map(FINGERPRINT_ITEMS.map((item, index) => [item.key, { ...item, index }]));
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(observed)])].sort((a, b) => {
    const [ia, ib] = [known.get(a)?.index ?? Infinity, known.get(b)?.index ?? Infinity];
    return ia !== ib ? ia - ib : a < b ? -1 : a > b ? 1 : 0;
  });
  const lines: string[] = [];
  for (const key of keys) {
    const item = known.get(key) ?? { label: key, plural: undefined };
    const [is, was] = item.plural ? ['are', 'were'] : ['is', 'was'];
    const before = expected[key];
    const now = observed[key];
    if (before === now) continue;
    if (now === undefined) lines.push(`${item.label} ${is} missing`);
    else if (before === undefined) lines.push(`${item.label} ${is} present but ${was} not applied`);
    else lines.push(`${item.label} ${item.plural ? 'differ' : 'differs'}`);
  }
  return lines;
}

/**
 * The fingerprints to expect after a successful command that converged the site: a complete set
 * replaces what was expected; a partial one (a rollback or rotation changes only some items)
 * updates those items of it. undefined: nothing to expect (no complete set ever arrived, or an
 * empty one), so no drift is declared until a converge reports one.
 */
export function appliedFingerprints(before: Fingerprints | undefined, sent: Fingerprints, complete: boolean): Fingerprints | undefined {
  if (complete) return Object.keys(sent).length > 0 ? sent : undefined;
  return before === undefined ? undefined : wellFormedFingerprints({ ...before, ...sent });
}

/** What the control plane knows when a node's fingerprints of a site arrive. */
export interface DriftObservation {
  readonly phase: SitePhase;
  /** The site's status.fence and the state of the command it names (undefined: none issued yet). */
  readonly fence: number;
  readonly latestCommandState: CommandState | undefined;
  /** The highest fence the node holds for the site (its report says so). */
  readonly nodeFence: number;
  /** undefined: no converge has reported fingerprints yet. */
  readonly expected: Fingerprints | undefined;
  readonly observed: Fingerprints;
}

/**
 * The drift findings, or undefined when no verdict may be drawn from this observation: the site
 * is not ACTIVE, a command for it is not finished (changes in flight are not drift), the node
 * has not seen the newest command yet, or nothing is expected yet.
 */
export function driftFindings(view: DriftObservation): string[] | undefined {
  if (view.phase !== 'ACTIVE' || view.expected === undefined) return undefined;
  if (view.latestCommandState !== undefined && !TERMINAL_COMMAND_STATES.includes(view.latestCommandState)) return undefined;
  if (view.nodeFence !== view.fence) return undefined;
  return compareFingerprints(view.expected, view.observed);
}
