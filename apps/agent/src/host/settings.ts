import type { FirewallSettings } from './firewall.js';
import type { GitLimits } from './git.js';
import type { RedisSettings } from './redis.js';
import type { RestartPolicy } from '@pressluft/domain';

/**
 * Where a node's services and files are. Every path is a setting so several agents (tests,
 * several nodes on one machine) can share a host; production uses the Debian defaults.
 */
export interface HostSettings {
  /** Site trees: <sitesRoot>/<site name>/{releases/<ts>/, current, shared/, tmp/}. Production: /var/www/sites. */
  readonly sitesRoot: string;
  /**
   * The agent's own durable state (fences, site secrets, PHP-FPM runtime dirs). Root-owned, mode
   * 0711: nobody may list it, but nginx (its user) must traverse it to reach the sockets in
   * <stateDir>/sock/site_<id>/; secrets live in <stateDir>/sites/ (0700) as 0600 files. SiteHost
   * sets this mode. A site's jail hides it but for that site's own socket, PHP-FPM and Composer
   * dirs; <stateDir>/jail is the (empty) mount point of the jails' trees.
   */
  readonly stateDir: string;
  /** WordPress core to copy into a release (Debian's `wordpress` package: /usr/share/wordpress). */
  readonly wordpressSource: string;
  readonly nginx: {
    /** argv prefix that addresses the node's nginx, e.g. ['/usr/sbin/nginx', '-p', P, '-c', C]. */
    readonly command: readonly string[];
    /** Directory included by nginx.conf (`include <dir>/*.conf`); one server block per site. */
    readonly sitesDir: string;
    /** Where site server blocks listen, e.g. 127.0.0.1:8081 (single-server mode) or 80. */
    readonly listen: string;
    /**
     * Where site server blocks serve HTTPS (by SNI) once a site has a certificate: 443 in
     * production, 127.0.0.1:8082 on the local system (PRESSLUFT_SITES_TLS_PORT). Undefined: the
     * node serves HTTP only (IssueCertificate fails with TlsUnavailable).
     */
    readonly tlsListen?: string;
    /** The HTTPS port clients use (redirects and WordPress's URLs name it unless 443); default: tlsListen's port. */
    readonly httpsPort?: number;
    /** The user nginx workers run as (it must reach static files and PHP-FPM sockets). */
    readonly user: string;
    /**
     * nginx's pid file, when the agent keeps nginx running (machines without systemd): a master
     * that is gone is started again with `command` (which starts it). Undefined: nginx is
     * someone else's (systemd's).
     */
    readonly pidFile?: string;
  };
  readonly phpFpm: {
    /** The PHP-FPM binary (php-fpm8.2). One master per site, so each site has its own cgroup. */
    readonly binary: string;
  };
  readonly mariadb: {
    /** argv prefix of the client as the server's admin (root over the socket), e.g. ['/usr/bin/mariadb', '--defaults-file=F']. */
    readonly command: readonly string[];
    /** The server's socket, written into wp-config.php (DB_HOST localhost:<socket>). */
    readonly socket: string;
  };
  /** The node's redis-server for sites with spec.cache.redis; undefined: the node has none (such a site fails with RedisUnavailable). */
  readonly redis?: RedisSettings;
  /**
   * argv prefix of WP-CLI: ['/usr/local/bin/wp'] in production, the stand-in
   * (['/usr/bin/php', '<repo>/tools/wp-cli/wp']) here. It runs as the site user in the site's
   * jail, so the script must be readable by every user and outside the sites root and stateDir.
   */
  readonly wpCli: readonly string[];
  /** How long one site's WP-Cron run may take before it is killed (with everything it started); default 5 min. */
  readonly cronTimeoutMs?: number;
  /**
   * argv prefix of Composer (['/usr/bin/composer'], Debian's package). A release whose wp-content
   * holds a composer.json gets `composer install` as the site user before its health check.
   */
  readonly composer: readonly string[];
  /**
   * cgroup root for per-site CPU/memory limits (v2 unified dir, or v1 where memory/cpu are
   * separate hierarchies, e.g. /sys/fs/cgroup); undefined: limits are not applied.
   * A site's cgroup is <root>/<prefix>/site_<id> (v2) or <root>/{memory,cpu}/<prefix>/site_<id> (v1).
   * relativeTo 'self' (default 'root') puts <prefix> below the agent's OWN cgroup in each
   * hierarchy (read from /proc/self/cgroup), so a test agent's PHP-FPM processes stay inside the
   * accounting of whatever runs the tests. v1 only: v2 forbids controllers below a cgroup that
   * holds processes.
   */
  readonly cgroup: { readonly root: string; readonly prefix: string; readonly relativeTo?: 'root' | 'self' } | undefined;
  /**
   * Also accept file:// URLs and absolute paths as a site's git source (tests, single-server
   * setups); default false: https:// only.
   */
  readonly gitAllowLocal?: boolean;
  /** A CA bundle git also trusts for https repositories (a self-hosted git server behind a private CA); default: the system's only. */
  readonly gitCaFile?: string;
  /** What one clone of a site's repository may take (size, files, time); default DEFAULT_GIT_LIMITS. */
  readonly gitLimits?: GitLimits;
  /** The templates/ directory (nginx, PHP-FPM, wp-config). Default: the repository's, found upward from the agent's code. */
  readonly templatesDir?: string;
  /**
   * The sites' packet rules, re-applied after every provision and removal; undefined: none
   * (`tools/dev up`: this machine is not a production node; tests apply them in their own network
   * namespace).
   */
  readonly firewall?: FirewallSettings;
  /** When a supervised process (a site's PHP-FPM master, nginx) is started again; default DEFAULT_RESTART_POLICY. */
  readonly restartPolicy?: RestartPolicy;
  /**
   * The sites' page caches: <pageCacheRoot>/site_<id>/, owned by nginx's user, mode 0700 (no site
   * user can read or write it; the agent empties it). Default: <stateDir>/page-cache.
   */
  readonly pageCacheRoot?: string;
  /**
   * ACME on the node. challtestsrvUrl: Pebble's challenge test server's management URL, the
   * `challtestsrv` DNS-01 provider (tests, `tools/dev up`); cloudflareApiUrl: the Cloudflare API
   * base (default https://api.cloudflare.com/client/v4). The account key lives in
   * <stateDir>/acme/ (0600), challenges in <stateDir>/acme/challenges (root's, read by nginx).
   */
  readonly acme?: { readonly challtestsrvUrl?: string; readonly cloudflareApiUrl?: string };
  /** The node's public addresses (where its sites' domains must point), reported in NodeReport. */
  readonly publicAddresses?: readonly string[];
  /** The node's name: restic's --host of the backups it takes. Default: the machine's hostname. */
  readonly node?: string;
  /**
   * The Unix user restic runs as (it reads the agent's streams and writes the repository: it needs
   * no root); undefined: root. `tools/dev up` names the control plane's user, which owns the local
   * default repository and applies retention to it.
   */
  readonly resticUser?: string;
}
