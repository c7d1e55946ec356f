import { createHash } from 'node:crypto';
import { FINGERPRINT_KEYS } from '@pressluft/domain';

/** A file as the node found it: its content and the metadata that matters for who may read it. */
export interface FileFacts {
  readonly content: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Everything the agent manages for one site, as read from the host (undefined / false: absent). */
export interface SiteFacts {
  readonly serverBlock?: string;
  readonly fpmConfig?: string;
  readonly wpConfig?: FileFacts;
  /** The `current` symlink's target text (releases/<ts>). */
  readonly currentTarget?: string;
  /** The site user's UID and the UID owning the site tree. */
  readonly user?: { readonly uid: number; readonly treeUid: number | undefined };
  readonly database: boolean;
  readonly databaseUser: boolean;
  /** SHOW GRANTS for the site's database user. */
  readonly grants?: string;
  /** The site's Redis ACL user without its passwords (redis.ts aclRulesText); absent without an object cache. */
  readonly redisUser?: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A user's grants without their authentication part (`IDENTIFIED VIA ... USING '<hash>'`, which
 * changes with every password rotation and is a secret's hash), one `<privileges> ON <object>`
 * per line (plus ` WITH GRANT OPTION` where given), sorted: the same grants give the same text
 * whatever order or password MariaDB shows.
 */
export function normalizeGrants(showGrants: string): string {
  const grants = showGrants
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('GRANT '))
    .map((line) => {
      const match = /^GRANT (.+?) ON (\S+) TO /.exec(line);
      // A role grant (GRANT `role` TO `user`@`host`) has no object.
      const grant = match ? `${match[1] ?? ''} ON ${match[2] ?? ''}` : `ROLE ${line.slice('GRANT '.length).split(' TO ')[0] ?? ''}`;
      return / WITH GRANT OPTION\b/.test(line) ? `${grant} WITH GRANT OPTION` : grant;
    });
  return [...new Set(grants)].sort().join('\n');
}

/**
 * The fingerprints of a site: item key -> sha256 hex. Pure. Absent things have no item (the
 * control plane reads a missing item as "missing"). Secret-bearing content (wp-config.php) goes
 * into a digest only, together with its mode and owner.
 */
export function fingerprintsOf(facts: SiteFacts): Record<string, string> {
  const out: Record<string, string> = {};
  const keys = FINGERPRINT_KEYS;
  if (facts.serverBlock !== undefined) out[keys.serverBlock] = sha256(facts.serverBlock);
  if (facts.fpmConfig !== undefined) out[keys.fpmConfig] = sha256(facts.fpmConfig);
  if (facts.wpConfig !== undefined) {
    const { content, mode, uid, gid } = facts.wpConfig;
    out[keys.wpConfig] = sha256(`mode ${(mode & 0o7777).toString(8)} owner ${uid}:${gid}\n${sha256(content)}`);
  }
  if (facts.currentTarget !== undefined) out[keys.current] = sha256(`-> ${facts.currentTarget}`);
  if (facts.user !== undefined) out[keys.user] = sha256(`uid ${facts.user.uid} tree ${facts.user.treeUid ?? 'none'}`);
  if (facts.database) out[keys.database] = sha256('database present');
  if (facts.databaseUser) {
    out[keys.databaseUser] = sha256('database user present');
    if (facts.grants !== undefined) out[keys.grants] = sha256(normalizeGrants(facts.grants));
  }
  if (facts.redisUser !== undefined) out[keys.redisUser] = sha256(facts.redisUser);
  return out;
}
