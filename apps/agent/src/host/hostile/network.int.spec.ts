// Attack: a site's PHP with native code (as after an LD_PRELOAD escape: no php.ini, no
// disable_functions) connects to every port and socket on the host: the control plane's
// PostgreSQL, NATS, gRPC and API ports, MariaDB's TCP port, the cloud metadata address, another
// site's PHP-FPM socket, the control plane's PostgreSQL socket, private networks. It must reach
// only what a WordPress site needs: the node's web port, its own pool and database sockets, and
// outbound HTTP(S) (and SMTP submission). Everything runs in network namespaces this test creates; the rules are the
// agent's own (applySiteFirewall), loaded there, never in the machine's own namespace.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BLOCKED_NETWORKS } from '@pressluft/domain';
import { HARNESS_DIR_PREFIX } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNET_ADDRESS, INTERNET_PRIVATE_ADDRESS, NODE_ADDRESS, TestNetns } from '../../../test/netns.js';
import { exec, tail } from '../exec.js';
import { applySiteFirewall } from '../firewall.js';
import { requireUser } from '../users.js';

const WEB_PORT = 8081;
/** The control plane's and the node's services as `tools/dev up` places them (contract.md), and MariaDB's and Redis' usual ports. */
const PROTECTED_PORTS = [55432, 54222, 8444, 8080, 8443, 3306, 6379];
const METADATA = '169.254.169.254';
/** uids with no passwd entry: the kernel and the rules need nothing more. */
const ATTACKER = 1_970_001;
const NEIGHBOUR = 1_970_002;

/**
 * Tries every listening TCP port and every unix socket the namespace's /proc/net lists, and the
 * extra targets given, with plain stream_socket_client; prints {target: "connected" | "refused ..."}.
 */
const PROBE = String.raw`
$targets = [];
foreach (['/proc/net/tcp' => 4, '/proc/net/tcp6' => 6] as $file => $family) {
  foreach (array_slice(file($file) ?: [], 1) as $line) {
    $c = preg_split('/\s+/', trim($line));
    if ($c[3] !== '0A') continue;
    [$hex, $port] = explode(':', $c[1]);
    $words = array_map(fn ($w) => pack('V', hexdec($w)), str_split($hex, 8));
    $ip = inet_ntop(implode('', $words));
    $targets[] = $family === 4 ? "tcp://$ip:" . hexdec($port) : "tcp://[$ip]:" . hexdec($port);
  }
}
foreach (array_slice(file('/proc/net/unix') ?: [], 1) as $line) {
  $c = preg_split('/\s+/', trim($line));
  if (count($c) >= 8 && str_starts_with($c[7], '/')) $targets[] = 'unix://' . $c[7];
}
$out = [];
foreach (array_unique(array_merge($targets, array_slice($argv, 1))) as $t) {
  $s = @stream_socket_client($t, $errno, $errstr, 2);
  $out[$t] = $s ? 'connected' : "refused ($errno $errstr)";
  if ($s) fclose($s);
}
echo json_encode($out);
`;

describe('hostile tenant: the network around a site', () => {
  let netns: TestNetns;
  let root: string;
  let sockets: { ownPool: string; neighbourPool: string; controlPlaneDatabase: string; siteDatabase: string };
  const external = [
    `tcp://${INTERNET_ADDRESS}:443`,
    `tcp://${INTERNET_ADDRESS}:80`,
    `tcp://${INTERNET_ADDRESS}:25`,
    `tcp://${INTERNET_ADDRESS}:5432`,
    `tcp://${INTERNET_PRIVATE_ADDRESS}:443`,
  ];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), HARNESS_DIR_PREFIX));
    chmodSync(root, 0o755);
    const www = await requireUser('www-data');
    const postgres = await requireUser('postgres');
    // As on a node: pool sockets 0660 site user:www-data; PostgreSQL's socket 0777 in a dir only
    // the control plane's group may pass (0710); MariaDB's socket open to every site (0777).
    for (const [dir, mode] of [['pool-a', 0o755], ['pool-b', 0o755], ['pg', 0o710], ['mariadb', 0o755]] as const) {
      mkdirSync(join(root, dir), { mode });
      chmodSync(join(root, dir), mode);
    }
    chownSync(join(root, 'pg'), postgres.uid, postgres.gid);
    sockets = {
      ownPool: join(root, 'pool-a', 'php-fpm.sock'),
      neighbourPool: join(root, 'pool-b', 'php-fpm.sock'),
      controlPlaneDatabase: join(root, 'pg', '.s.PGSQL.55432'),
      siteDatabase: join(root, 'mariadb', 'mysqld.sock'),
    };

    netns = await TestNetns.create();
    await netns.addLocalAddress(`${METADATA}/32`);
    await netns.listen({
      tcp: [
        { host: '0.0.0.0', port: WEB_PORT },
        ...PROTECTED_PORTS.map((port) => ({ host: '127.0.0.1', port })),
        { host: NODE_ADDRESS, port: 5433 },
        { host: METADATA, port: 80 },
      ],
      unix: [
        { path: sockets.ownPool, uid: ATTACKER, gid: www.gid, mode: 0o660 },
        { path: sockets.neighbourPool, uid: NEIGHBOUR, gid: www.gid, mode: 0o660 },
        { path: sockets.controlPlaneDatabase, uid: postgres.uid, gid: postgres.gid, mode: 0o777 },
        { path: sockets.siteDatabase, uid: 0, gid: 0, mode: 0o777 },
      ],
    });
    await netns.listen({ tcp: [25, 80, 443, 5432].map((port) => ({ host: '0.0.0.0', port })) }, netns.internet);
    await applySiteFirewall({ command: netns.argv(['/usr/sbin/nft']), localPorts: [WEB_PORT], blockedNetworks: DEFAULT_BLOCKED_NETWORKS }, [ATTACKER, NEIGHBOUR]);
  });

  afterAll(async () => {
    await netns?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function probe(uid: number): Promise<Record<string, string>> {
    const asUser = uid === 0 ? [] : ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
    const result = await exec(netns.argv([...asUser, '/usr/bin/php', '-n', '-r', PROBE, '--', ...external]), { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`probe failed: ${tail(result.stderr)}`);
    return JSON.parse(result.stdout) as Record<string, string>;
  }

  const reached = (results: Record<string, string>): string[] =>
    Object.entries(results)
      .filter(([, outcome]) => outcome === 'connected')
      .map(([target]) => target)
      .sort();

  it('root (the agent, the services) reaches every listener: the rules match site uids only', async () => {
    const results = await probe(0);
    expect(Object.keys(results).length).toBeGreaterThanOrEqual(PROTECTED_PORTS.length + 3 + 4 + external.length);
    expect(reached(results)).toEqual(Object.keys(results).sort());
  });

  it("a site's native code reaches the web port, its own pool and database sockets and outbound HTTP(S), nothing else", async () => {
    const results = await probe(ATTACKER);
    expect(reached(results)).toEqual(
      [
        `tcp://0.0.0.0:${WEB_PORT}`,
        `tcp://${INTERNET_ADDRESS}:443`,
        `tcp://${INTERNET_ADDRESS}:80`,
        `unix://${sockets.ownPool}`,
        `unix://${sockets.siteDatabase}`,
      ].sort(),
    );
    for (const port of PROTECTED_PORTS) expect(results[`tcp://127.0.0.1:${port}`]).toMatch(/^refused \(111 /); // reset by the rules
    expect(results[`tcp://${NODE_ADDRESS}:5433`]).toMatch(/^refused \(111 /); // the node's own address is this host too
    expect(results[`tcp://${METADATA}:80`]).toMatch(/^refused/);
    expect(results[`tcp://${INTERNET_ADDRESS}:5432`]).toMatch(/^refused/);
    expect(results[`tcp://${INTERNET_ADDRESS}:25`]).toMatch(/^refused/); // mail leaves by SMTP submission only
    expect(results[`tcp://${INTERNET_PRIVATE_ADDRESS}:443`]).toMatch(/^refused/);
    expect(results[`unix://${sockets.neighbourPool}`]).toMatch(/^refused \(13 /); // EACCES: file permissions
    expect(results[`unix://${sockets.controlPlaneDatabase}`]).toMatch(/^refused \(13 /);
  });
});
