import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { until, V1, ControlPlaneProcesses, type ApiObject, NodeStack, type AgentProcess } from '@pressluft/e2e-harness';
import { EVENT_STREAM } from '@pressluft/platform';
import { Command, CommandEvent } from '@pressluft/proto';
import { httpRequest, pgQuery, repoRoot, run, type HttpResult } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { siteShortId } from '../engine/site-config.js';

/*
 * The first vertical slice, end to end on real parts: the control plane process (engine, API,
 * enrollment gRPC), its nats-server with mutual TLS and per-node authorization, a real agent
 * process that enrolls with a join token and converges sites on the harness's real nginx,
 * MariaDB and per-site PHP-FPM masters, WordPress installed through (the stand-in) WP-CLI.
 */

const REPO = repoRoot(__dirname);
const KUBECTL = '/usr/bin/kubectl';
const NODE = 'local';

interface SiteView extends ApiObject {
  metadata: ApiObject['metadata'] & { uid: string };
  status: ApiObject['status'] & { url?: string; currentRelease?: string; releases: string[]; credentialsRotatedAt?: string };
}

function execOut(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const [file, ...args] = argv;
    execFile(file ?? '', args, { env: env ?? process.env, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('a Site manifest becomes a WordPress site on a real node (end to end)', () => {
  const services = inject('services');
  let processes: ControlPlaneProcesses;
  let stack: NodeStack;
  let agent: AgentProcess;
  let kubeHome: string;
  const blog = `blog-${randomBytes(3).toString('hex')}`;

  const site = async (name: string) => (await stack.site(name)) as SiteView | undefined;
  const front = (domain: string, path = '/', options: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> =>
    httpRequest(`http://127.0.0.1:${stack.sitesPort}${path}`, { host: domain, ...options });
  const siteUser = (view: SiteView) => `site_${siteShortId(view.metadata.uid)}`;
  const kubectl = (...args: string[]) => {
    if (!existsSync(KUBECTL)) throw new Error(`kubectl not found at ${KUBECTL} (install kubectl >= 1.27)`);
    return execOut([KUBECTL, ...args], { PATH: process.env['PATH'], HOME: kubeHome, KUBECONFIG: stack.kubeconfig });
  };
  const sql = async (text: string) => (await run(['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`, '--batch', '--skip-column-names'], { input: text })).trim();

  beforeAll(async () => {
    processes = await ControlPlaneProcesses.build();
    stack = await NodeStack.start(processes, services, 'e2e');
    kubeHome = join(stack.root, 'kube-home');
  }, 180_000);

  afterAll(async () => {
    // Whatever a failed test left: delete the sites through the system so the node is cleaned.
    if (stack) {
      for (const name of ['shop', blog]) {
        if ((await stack.call(`${V1}/sites/${name}`)).status === 200) {
          await stack.call(`${V1}/sites/${name}`, { method: 'DELETE' });
          await stack.waitSiteGone(name, 60_000).catch(() => undefined);
        }
      }
      await stack.stop();
    }
    await processes?.stop();
  }, 180_000);

  it('the agent enrolls with a one-time join token and its Node turns Ready with its capacity', async () => {
    agent = await stack.startAgent(NODE);
    const node = await stack.waitNodeReady(NODE, 60_000);
    expect(existsSync(join(agent.stateDir, 'identity.json'))).toBe(true);
    expect(statSync(join(agent.stateDir, 'identity.json')).mode & 0o077).toBe(0);
    const capacity = await until('the NodeReport capacity', async () => {
      const body = (await stack.call(`${V1}/nodes/${NODE}`)).body as unknown as { status: { capacity?: { cpu: number; memory: string } } };
      return body.status.capacity;
    });
    expect(capacity.cpu).toBeGreaterThan(0);
    expect(node.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  }, 90_000);

  it('kubectl apply -f examples/site.yaml -> ACTIVE, Ready, the WordPress front page on nginx, wp-login.php, the admin logs in', async () => {
    const applied = await kubectl('apply', '-f', join(REPO, 'examples/site.yaml'));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('site.pressluft.io/shop created');
    const shop = (await stack.waitSiteReady('shop', 90_000)) as SiteView;
    expect(shop.status.url).toBe('http://shop.example.test/');
    expect(shop.status.nodeName).toBe(NODE);

    const page = await front('shop.example.test');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Shop</title>');
    expect((await front('shop.example.test', '/wp-login.php')).status).toBe(200);

    // The admin password was made on the node and never left it (root-only file in the agent's state).
    const passwordFile = join(agent.stateDir, 'sites', 'shop', 'admin-password');
    expect(statSync(passwordFile).mode & 0o077).toBe(0);
    const password = readFileSync(passwordFile, 'utf8').trim();
    const form = new URLSearchParams({ log: 'admin', pwd: password, 'wp-submit': 'Log In', redirect_to: 'http://shop.example.test/wp-admin/', testcookie: '1' }).toString();
    const login = await front('shop.example.test', '/wp-login.php', {
      method: 'POST',
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'wordpress_test_cookie=WP%20Cookie%20check' },
    });
    expect(login.status).toBe(302);
    expect(String(login.headers['set-cookie'])).toMatch(/wordpress_logged_in_/);

    // The command's progress, heartbeats and result are visible through the API.
    const commands = await stack.call<{ items: Array<{ spec: { site: string; operation: string }; status: { state: string; log: string[] } }> }>(`${V1}/commands`);
    const provision = commands.body.items.find((c) => c.spec.site === 'shop');
    expect(provision?.status.state).toBe('SUCCEEDED');
    expect(provision?.status.log.length).toBeGreaterThan(3);
  }, 150_000);

  it('a second site by PUT; the two are isolated (files, PHP, database)', async () => {
    const manifest = parseYaml(readFileSync(join(REPO, 'examples/site.yaml'), 'utf8')) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    const body = { ...manifest, metadata: { name: blog }, spec: { ...manifest.spec, domains: [`${blog}.example.test`], wordpress: { ...(manifest.spec['wordpress'] as object), title: 'Blog' } } };
    const put = await stack.call(`${V1}/sites/${blog}`, { method: 'PUT', body });
    expect(put.status, put.text).toBe(201);
    const b = (await stack.waitSiteReady(blog, 90_000)) as SiteView;
    const a = (await site('shop')) as SiteView;
    expect((await front(`${blog}.example.test`)).body).toContain('<title>Blog</title>');

    const [userA, userB] = [siteUser(a), siteUser(b)];
    expect(userA).not.toBe(userB);
    // A's Linux user cannot read B's files.
    const bConfig = join(agent.sitesRoot, blog, 'shared', 'wp-config.php');
    expect(existsSync(bConfig)).toBe(true);
    const denied = await execOut(['/usr/sbin/runuser', '-u', userA, '--', '/bin/cat', bConfig]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Permission denied/);
    // A's database user cannot see B's database (unix_socket auth as A's Linux user).
    const databases = await execOut(['/usr/sbin/runuser', '-u', userA, '--', '/usr/bin/mariadb', `--socket=${services.mariadb.socket}`, '--batch', '--skip-column-names', '-e', 'SHOW DATABASES']);
    expect(databases.code, databases.stderr).toBe(0);
    expect(databases.stdout).toContain(userA);
    expect(databases.stdout).not.toContain(userB);
  }, 150_000);

  it('a command replayed with an old fence is rejected by the node and changes nothing', async () => {
    // A spec change: fence 2 for shop.
    const patched = await stack.call(`${V1}/sites/shop`, { method: 'PATCH', body: { spec: { php: { maxChildren: 4 } } }, contentType: 'application/merge-patch+json' });
    expect(patched.status, patched.text).toBe(200);
    await until('shop converged at generation 2', async () => {
      const s = await site('shop');
      return s?.status.observedGeneration === 2 && s.status.phase === 'ACTIVE' ? s : undefined;
    }, 90_000, () => stack.explain());
    const shop = (await site('shop')) as SiteView;
    expect(shop.status.fence).toBe(2);
    const first = await pgQuery(stack.database.url, `SELECT o.command, o.payload FROM outbox o JOIN resources r ON r.kind = 'Command' AND r.name = o.command WHERE r.spec ->> 'site' = 'shop' AND (r.spec ->> 'fence')::int = 1`);
    const row = first.rows[0] as { command: string; payload: Buffer } | undefined;
    if (!row) throw new Error('no outbox row for shop fence 1');
    expect(Command.decode(row.payload).ref?.fence).toBe(1);

    const root = join(agent.sitesRoot, 'shop');
    const before = { current: readlinkSync(join(root, 'current')), releases: readdirSync(join(root, 'releases')), fence: readFileSync(join(agent.stateDir, 'fences', 'shop.json'), 'utf8') };
    // The old command again (a new message id, so JetStream's dedup does not hide it from the node).
    await stack.publishCommand(NODE, row.payload, `replay-${row.command}`);

    const nc = await stack.bus();
    try {
      const jsm = await jetstreamManager(nc);
      const name = `e2e-replay-${randomBytes(3).toString('hex')}`;
      await jsm.consumers.add(EVENT_STREAM, { name, filter_subject: `pressluft.evt.${NODE}.command`, deliver_policy: DeliverPolicy.All, inactive_threshold: 60_000_000_000 });
      const consumer = await jetstream(nc).consumers.get(EVENT_STREAM, name);
      const rejected = await until('the node rejecting the replayed command', async () => {
        for await (const message of await consumer.fetch({ max_messages: 256, expires: 1000 })) {
          const event = CommandEvent.decode(message.data);
          if (event.ref?.id === row.command && event.kind?.$case === 'rejected') return event;
        }
        return undefined;
      }, 30_000, () => stack.explain());
      expect(rejected.kind?.$case === 'rejected' && rejected.kind.value.reason).toBe('StaleFence');
    } finally {
      await nc.close();
    }
    expect({ current: readlinkSync(join(root, 'current')), releases: readdirSync(join(root, 'releases')), fence: readFileSync(join(agent.stateDir, 'fences', 'shop.json'), 'utf8') }).toEqual(before);
    expect((await front('shop.example.test')).status).toBe(200);
  }, 150_000);

  it('rotates the database password on demand: the site keeps serving, the secret stays on the node', async () => {
    const secretFile = join(agent.stateDir, 'sites', 'shop', 'db-password');
    const old = readFileSync(secretFile, 'utf8');
    const requested = await stack.call(`${V1}/sites/shop/rotate-credentials`, { method: 'POST' });
    expect(requested.status, requested.text).toBe(201);
    const rotated = await until('shop credentials rotated', async () => {
      const s = await site('shop');
      return s?.status.credentialsRotatedAt ? s : undefined;
    }, 60_000, () => stack.explain());
    expect(rotated.status.phase).toBe('ACTIVE');
    const fresh = readFileSync(secretFile, 'utf8');
    expect(fresh).not.toBe(old);
    expect((await front('shop.example.test')).status).toBe(200);
    // Neither password appears anywhere the API shows (site, its commands, its events).
    const shown = [(await stack.call(`${V1}/sites/shop`)).text, (await stack.call(`${V1}/commands?site=shop`)).text, (await stack.call(`${V1}/events?involvedObject=sites/shop`)).text].join('\n');
    for (const secret of [old.trim(), fresh.trim()]) expect(shown.includes(secret)).toBe(false);
  }, 120_000);

  it('notices a hand-edited server block (Drifted=True, a Warning); Observe leaves it, Remediate puts it back with a command', async () => {
    const shop = (await site('shop')) as SiteView;
    const block = join(services.nginx.sitesDir, `${siteUser(shop)}.conf`);
    const rendered = readFileSync(block, 'utf8');
    const drifted = (status: 'True' | 'False', within = 60_000) =>
      until(`shop Drifted=${status}`, async () => {
        const s = await site('shop');
        return s?.status.conditions?.find((c) => c.type === 'Drifted' && c.status === status);
      }, within, () => stack.explain());
    type CommandList = { items: Array<{ metadata: { name: string }; spec: { operation: string; fence: number }; status: { state: string; message?: string } }> };
    const commands = async () => (await stack.call<CommandList>(`${V1}/commands?site=shop`)).body.items;

    // On the node's report timer (5 s here): the control plane compares the node's fingerprints
    // with those of the site's last converge.
    writeFileSync(block, `${rendered}# edited by hand on the node\n`);
    const found = await drifted('True', 20_000);
    expect(found).toMatchObject({ reason: 'DriftDetected', message: 'nginx server block differs' });
    const events = await stack.call<{ items: Array<{ type: string; reason: string; message: string }> }>(`${V1}/events?involvedObject=sites/shop`);
    expect(events.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Warning', reason: 'DriftDetected', message: 'nginx server block differs' })]));
    // No digest and no content of anything reaches the API.
    expect((await stack.call(`${V1}/sites/shop`)).text).not.toMatch(/[0-9a-f]{64}/);

    // On request: the node fingerprints now and the control plane answers with its verdict.
    const check = await stack.call(`${V1}/sites/shop/check-drift`, { method: 'POST' });
    expect(check.status, check.text).toBe(201);
    const checked = await until('the drift check', async () => {
      const command = (await stack.call(`${V1}/commands/${check.body.metadata.name}`)).body as unknown as { status: { state: string; message?: string } };
      return command.status.state === 'SUCCEEDED' ? command : undefined;
    }, 30_000, () => stack.explain());
    expect(checked.status.message).toBe('drift: nginx server block differs');

    // Observe only reports: a report interval later the edit is still there and nothing was issued.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(readFileSync(block, 'utf8')).toContain('edited by hand');
    expect((await commands()).map((c) => c.spec.operation)).not.toContain('RemediateDrift');

    // Undoing the edit by hand clears the condition.
    writeFileSync(block, rendered);
    await drifted('False', 20_000);

    // Remediate: the control plane converges the site back with a fenced command of its own.
    const patched = await stack.call(`${V1}/sites/shop`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { drift: { policy: 'Remediate' } } } });
    expect(patched.status, patched.text).toBe(200);
    await until('shop converged with policy Remediate', async () => {
      const s = await site('shop');
      return s?.status.observedGeneration === patched.body.metadata.generation && s.status.phase === 'ACTIVE' ? s : undefined;
    }, 60_000, () => stack.explain());
    writeFileSync(block, `${rendered}# edited by hand again\n`);
    const remediation = await until('a RemediateDrift command that succeeded', async () => (await commands()).find((c) => c.spec.operation === 'RemediateDrift' && c.status.state === 'SUCCEEDED'), 60_000, () => stack.explain());
    expect(readFileSync(block, 'utf8')).toBe(rendered);
    await drifted('False');
    // The command's result clears Drifted in the ingest's transaction; the reconciler completes
    // the phase (DEPLOYING -> ACTIVE) right after, when it sees the result.
    const after = await until('shop ACTIVE after the remediation', async () => {
      const s = await site('shop');
      return s?.status.phase === 'ACTIVE' ? s : undefined;
    }, 30_000, () => stack.explain());
    expect(after.status.fence).toBeGreaterThanOrEqual(remediation.spec.fence);
    const cleared = await stack.call<{ items: Array<{ type: string; reason: string; message: string }> }>(`${V1}/events?involvedObject=sites/shop`);
    expect(cleared.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Normal', reason: 'DriftCleared', message: expect.stringContaining('RemediateDrift') })]));
    expect((await front('shop.example.test')).status).toBe(200);
  }, 240_000);

  it('deploys code from a git repository health-gated; a release answering 500 never goes live; rollback', async () => {
    // A local repository with wp-content: ref v1 adds a header, ref broken answers 500.
    const repo = join(stack.root, 'shop-code');
    const git = (...args: string[]) => run(['/usr/bin/git', '-c', 'user.email=ci@example.test', '-c', 'user.name=ci', '-C', repo, ...args]);
    await run(['/usr/bin/git', 'init', '-q', '-b', 'main', repo]);
    const plugin = (body: string) => writeFileSync(join(repo, 'mu-plugins', 'marker.php'), `<?php\n${body}\n`);
    mkdirSync(join(repo, 'mu-plugins'));
    plugin("add_action('send_headers', function () { header('X-Pressluft-Release: v1'); });");
    await git('add', '-A');
    await git('commit', '-q', '-m', 'v1');
    await git('tag', 'v1');
    plugin('http_response_code(500); exit;');
    await git('commit', '-q', '-am', 'broken');
    await git('tag', 'broken');

    const before = (await site('shop')) as SiteView;
    const firstRelease = before.status.currentRelease;
    expect(firstRelease).toMatch(/^\d{8}T\d{6}Z$/);
    const deploy = async (ref: string) => {
      const patched = await stack.call(`${V1}/sites/shop`, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { code: { git: { url: `file://${repo}`, ref } } } } });
      expect(patched.status, patched.text).toBe(200);
      return patched.body.metadata.generation;
    };
    const settled = (generation: number) =>
      until(`shop settled at generation ${generation}`, async () => {
        const s = await site('shop');
        return s && s.status.observedGeneration === generation && (s.status.phase === 'ACTIVE' || s.status.phase === 'FAILED') ? s : undefined;
      }, 120_000, () => stack.explain());

    const v1 = await settled(await deploy('v1'));
    expect(v1.status.phase).toBe('ACTIVE');
    expect(v1.status.currentRelease).not.toBe(firstRelease);
    expect(v1.status.releases).toEqual([v1.status.currentRelease, firstRelease]);
    expect((await front('shop.example.test')).headers['x-pressluft-release']).toBe('v1');
    expect(existsSync(join(agent.sitesRoot, 'shop', 'releases', firstRelease ?? ''))).toBe(true);

    const broken = await settled(await deploy('broken'));
    expect(broken.status.phase).toBe('FAILED');
    expect(broken.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'HealthCheckFailed' });
    expect(broken.status.currentRelease).toBe(v1.status.currentRelease);
    const still = await front('shop.example.test');
    expect(still.status).toBe(200);
    expect(still.headers['x-pressluft-release']).toBe('v1');

    // Rollback: back to the first release (no header), fenced, through the node's health check.
    const rolled = await stack.call(`${V1}/sites/shop/rollback`, { method: 'POST' });
    expect(rolled.status, rolled.text).toBe(201);
    const back = await until('shop rolled back', async () => {
      const s = await site('shop');
      return s?.status.phase === 'ACTIVE' && s.status.currentRelease === firstRelease ? s : undefined;
    }, 60_000, () => stack.explain());
    expect(back.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const page = await front('shop.example.test');
    expect(page.status).toBe(200);
    expect(page.headers['x-pressluft-release']).toBeUndefined();
    // Nothing older than the first release: a second rollback is refused clearly and changes nothing.
    const none = await stack.call<{ message: string }>(`${V1}/sites/shop/rollback`, { method: 'POST' });
    expect(none.status).toBe(409);
    expect(none.body.message).toMatch(/no release before/);
  }, 300_000);

  it('DELETE removes everything of the site from the node, then the resource', async () => {
    const views = [(await site('shop')) as SiteView, (await site(blog)) as SiteView];
    for (const view of views) {
      const name = view.metadata.name;
      const user = siteUser(view);
      const removed = await stack.call(`${V1}/sites/${name}`, { method: 'DELETE' });
      // 202: accepted; the finalizer holds the resource until the node has removed the site.
      expect(removed.status, removed.text).toBe(202);
      await stack.waitSiteGone(name, 90_000);
      expect((await execOut(['/usr/bin/getent', 'passwd', user])).code).toBe(2);
      expect((await execOut(['/usr/bin/getent', 'group', user])).code).toBe(2);
      expect(existsSync(join(agent.sitesRoot, name))).toBe(false);
      expect(readdirSync(services.nginx.sitesDir).filter((f) => f.includes(user))).toEqual([]);
      expect(await sql(`SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${user}'`)).toBe('0');
      expect(await sql(`SELECT COUNT(*) FROM mysql.user WHERE User = '${user}'`)).toBe('0');
      const processes = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join(agent.stateDir, 'php-fpm', name));
          } catch {
            return false;
          }
        });
      expect(processes).toEqual([]);
      // The node's default server closes a request for a host no site claims (444: no response at all).
      await expect(front(view.spec['domains'] ? String((view.spec['domains'] as string[])[0]) : '')).rejects.toThrow(/socket hang up/);
    }
  }, 240_000);

  it('a site created again under a deleted one\'s name is a new incarnation: it converges, its commands are new ones', async () => {
    const applied = await kubectl('apply', '-f', join(REPO, 'examples/site.yaml'));
    expect(applied.code, applied.stderr).toBe(0);
    const again = (await stack.waitSiteReady('shop', 90_000)) as SiteView;
    // The new incarnation's fences continue after its predecessor's.
    const earlier = await pgQuery(stack.database.url, `SELECT max((spec ->> 'fence')::int) AS f FROM resources WHERE kind = 'Command' AND spec ->> 'site' = 'shop' AND labels ->> 'pressluft.io/site-uid' <> $1`, [again.metadata.uid]);
    expect(again.status.fence).toBe(Number((earlier.rows[0] as { f: number }).f) + 1);
    expect((await front('shop.example.test')).body).toContain('<title>Shop</title>');
    expect((await stack.call(`${V1}/sites/shop`, { method: 'DELETE' })).status).toBe(202);
    await stack.waitSiteGone('shop', 90_000);
    expect(existsSync(join(agent.sitesRoot, 'shop'))).toBe(false);
  }, 150_000);
});
