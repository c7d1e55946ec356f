import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { run } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exec, execOk } from './exec.js';
import { sitePaths } from './naming.js';
import { defaultServerFile, ensureServerBlock, NginxConfigError } from './nginx.js';
import { hostHarness, QUIET, RecordingReporter, siteRequest } from '../../test/host-harness.js';
import { SiteHost, StepError } from './site-host.js';
import { lookupGroup, lookupUser } from './users.js';

const services = inject('services');

/** GET or POST through the harness nginx with a Host header. */
const http = (host: string, path: string, options: { method?: string; body?: string; cookie?: string } = {}) => siteRequest(services, host, path, options);

function siteConfig(name: string, id: string, title: string, xmlrpc = false): SiteConfig {
  return {
    name,
    id,
    environment: 'production',
    domains: [`${name}.example.test`, `www.${name}.example.test`],
    php: { version: '8.2', memoryLimitMb: 192, maxChildren: 3, uploadMaxMb: 16 },
    wordpress: { version: '6.1', title, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc },
    resources: { cpuPercent: 50, memoryMib: 256 },
    keepReleases: 3,
  };
}

const suffix = randomBytes(3).toString('hex');
const randomId = () => randomBytes(8).toString('hex').replace(/[^0-9a-z]/g, '').slice(0, 8).padEnd(8, '0');
const A = siteConfig(`a-${suffix}`, randomId(), `Pressluft A ${suffix}`);
const B = siteConfig(`b-${suffix}`, randomId(), `Pressluft B ${suffix}`);
const C = siteConfig(`c-${suffix}`, randomId(), 'C');
const account = (site: SiteConfig) => `site_${site.id}`;

describe('SiteHost on real nginx, PHP-FPM, MariaDB and cgroups', () => {
  const harness = hostHarness(services, `pressluft-test-${suffix}`);
  const { root, settings, cgroupParents } = harness;
  const host = new SiteHost(settings, createLogger({ name: 'site-host-test', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const timings: Record<string, number> = {};

  const pathsA = sitePaths(settings, A.name, A.id);
  const pathsB = sitePaths(settings, B.name, B.id);

  beforeAll(async () => {
    const reporter = new RecordingReporter();
    const started = performance.now();
    const result = await host.provision(A, reporter);
    timings['provision A (first site, idle)'] = Math.round(performance.now() - started);
    expect(result.url).toBe(`http://${A.domains[0]}/`);
    expect(reporter.steps).toEqual(['validate', 'user', 'tree', 'database', 'cgroup', 'php-fpm', 'wp-config', 'release', 'wordpress', 'nginx', 'verify']);
    const startedB = performance.now();
    await host.provision(B, new RecordingReporter());
    timings['provision B'] = Math.round(performance.now() - startedB);
  }, 120_000);

  afterAll(async () => {
    for (const site of [A, B, C]) await host.remove(site.name, site.id, QUIET).catch((e: unknown) => console.error(`cleanup of ${site.name} failed:`, e));
    await host.stopAll().catch(() => undefined);
    harness.cleanup();
    console.log(`timings (ms): ${JSON.stringify(timings)}`);
  }, 120_000);

  it('serves the WordPress front page by Host header, and wp-login.php', async () => {
    const front = await http(A.domains[0] ?? '', '/');
    expect(front.status).toBe(200);
    expect(front.body).toContain(`<title>${A.wordpress?.title}</title>`);
    const alias = await http(A.domains[1] ?? '', '/');
    expect([200, 301]).toContain(alias.status);
    const login = await http(A.domains[0] ?? '', '/wp-login.php');
    expect(login.status).toBe(200);
    expect(login.body).toContain('user_login');
    expect((await http(B.domains[0] ?? '', '/')).body).toContain(`<title>${B.wordpress?.title}</title>`);
  });

  it('lets the admin log in with the generated password', async () => {
    const password = readFileSync(host.adminPasswordFile(A.name), 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(20);
    const body = new URLSearchParams({ log: 'admin', pwd: password, 'wp-submit': 'Log In', redirect_to: `http://${A.domains[0]}/wp-admin/`, testcookie: '1' }).toString();
    const answer = await http(A.domains[0] ?? '', '/wp-login.php', { method: 'POST', body, cookie: 'wordpress_test_cookie=WP%20Cookie%20check' });
    expect(answer.status).toBe(302);
    const cookies = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
    expect(cookies.some((c) => c.startsWith('wordpress_logged_in_'))).toBe(true);
    const wrong = await http(A.domains[0] ?? '', '/wp-login.php', { method: 'POST', body: body.replace(encodeURIComponent(password), 'wrong'), cookie: 'wordpress_test_cookie=WP%20Cookie%20check' });
    expect(wrong.status).toBe(200);
  });

  it('keeps secrets root-only and the tree private to the site', () => {
    const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);
    expect(mode(host.adminPasswordFile(A.name))).toBe('600');
    expect(mode(pathsA.dbPasswordFile)).toBe('600');
    expect(mode(pathsA.root)).toBe('750');
    expect(mode(pathsA.wpConfig)).toBe('640');
    const user = statSync(pathsA.root);
    expect(user.gid).toBe(33); // www-data
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${account(A)}:`)) ?? '';
    expect(passwd.endsWith(':/usr/sbin/nologin')).toBe(true);
    const shadow = readFileSync('/etc/shadow', 'utf8').split('\n').find((l) => l.startsWith(`${account(A)}:`)) ?? '';
    expect(shadow.split(':')[1]).toMatch(/^[!*]/);
    // core is hard-linked from the node's pristine copy: read-only to the site, its directories the site's
    const index = statSync(join(pathsA.current, 'wp-includes', 'version.php'));
    expect(index.nlink).toBeGreaterThanOrEqual(2);
    expect(index.uid).toBe(0);
    expect(statSync(join(pathsA.current, 'wp-content')).uid).toBe(statSync(pathsA.root).uid);
    // the DB password and salts never reach argv: they are only in the state dir and wp-config.php
    expect(readFileSync(pathsA.wpConfig, 'utf8')).toContain(readFileSync(pathsA.dbPasswordFile, 'utf8').trim());
  });

  it('converges on a second provision without changing anything', async () => {
    const before = readdirSync(pathsA.releases);
    const pid = readFileSync(pathsA.fpmPid, 'utf8').trim();
    const reporter = new RecordingReporter();
    const started = performance.now();
    const again = await host.provision(A, reporter);
    timings['re-provision A (converge)'] = Math.round(performance.now() - started);
    expect(again.currentRelease).toBe(before[0]);
    expect(readdirSync(pathsA.releases)).toEqual(before);
    expect(readFileSync(pathsA.fpmPid, 'utf8').trim()).toBe(pid);
    expect(reporter.lines).toEqual([]);
    expect((await http(A.domains[0] ?? '', '/')).status).toBe(200);
    expect(await host.observe()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: A.name, id: A.id, currentRelease: before[0], currentCommit: '', deployPublicKey: expect.stringMatching(/^ssh-ed25519 /) }),
        expect.objectContaining({ name: B.name, id: B.id, currentRelease: readdirSync(pathsB.releases)[0] }),
      ]),
    );
  });

  it('fingerprints what it manages: stable across a converge, an edit changes its item only, a converge puts it back', async () => {
    const before = await host.fingerprints(A.name, A.id);
    expect(Object.keys(before).sort()).toEqual(['database.grants', 'database.present', 'database.user', 'nginx.serverBlock', 'phpFpm.config', 'symlink.current', 'user.uid', 'wpConfig']);
    for (const digest of Object.values(before)) expect(digest).toMatch(/^[0-9a-f]{64}$/);
    // wp-config.php holds the database password: only its digest leaves fingerprints().
    expect(JSON.stringify(before)).not.toContain(readFileSync(pathsA.dbPasswordFile, 'utf8').trim());
    await host.provision(A, QUIET);
    expect(await host.fingerprints(A.name, A.id)).toEqual(before);

    const block = readFileSync(pathsA.nginxFile, 'utf8');
    writeFileSync(pathsA.nginxFile, `${block}# edited by hand\n`);
    try {
      const edited = await host.fingerprints(A.name, A.id);
      expect(Object.keys(before).filter((key) => edited[key] !== before[key])).toEqual(['nginx.serverBlock']);
    } finally {
      await host.provision(A, QUIET);
    }
    expect(await host.fingerprints(A.name, A.id)).toEqual(before);

    // A grant added by hand (A's user reading B's database) is drift too, and a converge revokes it.
    await execOk([...settings.mariadb.command, '--batch'], { input: `GRANT SELECT ON \`${account(B)}\`.* TO '${account(A)}'@'localhost';\n` });
    const granted = await host.fingerprints(A.name, A.id);
    expect(Object.keys(before).filter((key) => granted[key] !== before[key])).toEqual(['database.grants']);
    await host.provision(A, QUIET);
    expect(await host.fingerprints(A.name, A.id)).toEqual(before);
    // B's are its own.
    expect((await host.fingerprints(B.name, B.id))['user.uid']).not.toBe(before['user.uid']);
  });

  it("A's Linux user cannot read B's files", async () => {
    await expect(run(['/usr/sbin/runuser', '-u', account(A), '--', '/bin/cat', pathsB.wpConfig])).rejects.toThrow(/Permission denied/);
    await expect(run(['/usr/sbin/runuser', '-u', account(A), '--', '/bin/ls', pathsB.root])).rejects.toThrow(/Permission denied/);
    // nor change WordPress core, even its own
    await expect(run(['/usr/sbin/runuser', '-u', account(A), '--', '/usr/bin/test', '-w', join(pathsA.current, 'index.php')])).rejects.toThrow();
    // but its own wp-config.php it reads
    await expect(run(['/usr/sbin/runuser', '-u', account(A), '--', '/bin/cat', pathsA.wpConfig])).resolves.toContain('DB_NAME');
  });

  it("PHP code in A cannot open B's files, and runs with A's memory limit", async () => {
    const probe = join(pathsA.current, 'pressluft-probe.php');
    writeFileSync(
      probe,
      `<?php
$errors = [];
set_error_handler(function ($no, $message) use (&$errors) { $errors[] = $message; return true; });
$b = file_get_contents(${JSON.stringify(pathsB.wpConfig)});
echo json_encode(['b' => $b, 'error' => implode(' | ', $errors), 'memory' => ini_get('memory_limit'), 'pid' => getmypid(), 'shell' => function_exists('shell_exec') && is_callable('shell_exec') ? 'yes' : 'no']);
`,
    );
    const owner = statSync(pathsA.current);
    chownSync(probe, owner.uid, owner.gid);
    const answer = await http(A.domains[0] ?? '', '/pressluft-probe.php');
    expect(answer.status).toBe(200);
    const result = JSON.parse(answer.body) as { b: unknown; error: string; memory: string; pid: number };
    expect(result.b).toBe(false);
    expect(result.error).toMatch(/open_basedir/);
    expect(result.memory).toBe('192M');
    // the worker that answered and its master are in A's memory cgroup, which has A's limit
    const memoryDir = join(cgroupParents[0] ?? '', account(A));
    const procs = readFileSync(join(memoryDir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    expect(procs).toContain(result.pid);
    expect(procs).toContain(Number(readFileSync(pathsA.fpmPid, 'utf8').trim()));
    expect(readFileSync(join(memoryDir, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(256 * 1024 * 1024));
    const cpuDir = join(cgroupParents[1] ?? '', account(A));
    expect(readFileSync(join(cpuDir, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
    expect(readFileSync(join(cpuDir, 'cgroup.procs'), 'utf8')).toContain(String(result.pid));
  });

  it('disables the known PHP escapes (putenv, symlink, link, posix_mkfifo, mail), and wp_mail() fails soft', async () => {
    const probe = join(pathsA.current, 'pressluft-escape.php');
    writeFileSync(
      probe,
      `<?php
$tried = [];
foreach (['putenv' => ['LD_PRELOAD=/tmp/x.so'], 'symlink' => ['/', __DIR__ . '/root-link'], 'link' => [__FILE__, __DIR__ . '/hard-link'], 'posix_mkfifo' => [__DIR__ . '/fifo', 0600], 'mail' => ['a@example.test', 's', 'b'], 'proc_open' => ['id', [], $pipes], 'pcntl_fork' => [], 'dl' => ['x.so']] as $fn => $args) {
  try { $fn(...$args); $tried[$fn] = 'ran'; } catch (Error $e) { $tried[$fn] = $e->getMessage(); }
}
echo json_encode(['tried' => $tried, 'links' => file_exists(__DIR__ . '/root-link') || file_exists(__DIR__ . '/hard-link') || file_exists(__DIR__ . '/fifo')]);
`,
    );
    const owner = statSync(pathsA.current);
    chownSync(probe, owner.uid, owner.gid);
    const answer = await http(A.domains[0] ?? '', '/pressluft-escape.php');
    expect(answer.status).toBe(200);
    const result = JSON.parse(answer.body) as { tried: Record<string, string>; links: boolean };
    for (const fn of ['putenv', 'symlink', 'link', 'posix_mkfifo', 'mail', 'proc_open', 'pcntl_fork', 'dl']) {
      expect(result.tried[fn]).toContain(`undefined function ${fn}()`);
    }
    expect(result.links).toBe(false);
    // WordPress itself (wp-config.php defines a mail() that refuses): wp_mail() returns false, no fatal error
    const mailer = join(pathsA.current, 'pressluft-mail.php');
    writeFileSync(mailer, `<?php require __DIR__ . '/wp-load.php'; var_export(wp_mail('ops@example.test', 'subject', 'body'));`);
    chownSync(mailer, owner.uid, owner.gid);
    const sent = await http(A.domains[0] ?? '', '/pressluft-mail.php');
    expect(sent.status).toBe(200);
    expect(sent.body).toBe('false');
  });

  it("A's database user cannot see B's database", async () => {
    const out = await run(['/usr/sbin/runuser', '-u', account(A), '--', '/usr/bin/mariadb', `--socket=${services.mariadb.socket}`, '--batch', '--skip-column-names'], {
      input: 'SHOW DATABASES;',
    });
    const databases = out.split('\n').filter(Boolean);
    expect(databases).toContain(account(A));
    expect(databases).not.toContain(account(B));
    await expect(
      run(['/usr/sbin/runuser', '-u', account(A), '--', '/usr/bin/mariadb', `--socket=${services.mariadb.socket}`, account(B)], { input: 'SELECT 1;' }),
    ).rejects.toThrow(/Access denied/);
  });

  it('never executes PHP from uploads/', async () => {
    const upload = join(pathsA.uploads, 'evil.php');
    writeFileSync(upload, '<?php echo "EXECUTED-" . (6 * 7);');
    const owner = statSync(pathsA.uploads);
    chownSync(upload, owner.uid, owner.gid);
    for (const path of ['/wp-content/uploads/evil.php', '/wp-content/uploads/evil.php/x.php', '/wp-content/uploads/EVIL.PHP']) {
      const answer = await http(A.domains[0] ?? '', path);
      expect(answer.body).not.toContain('EXECUTED-42');
      expect([403, 404]).toContain(answer.status);
    }
    // static files in uploads are served
    writeFileSync(join(pathsA.uploads, 'hello.txt'), 'hello');
    expect((await http(A.domains[0] ?? '', '/wp-content/uploads/hello.txt')).body).toBe('hello');
    // wp-config.php is never served
    expect((await http(A.domains[0] ?? '', '/wp-config.php')).status).toBe(403);
  });

  it('serves uploads with nosniff, and closes a request for a host no site claims (444)', async () => {
    writeFileSync(join(pathsA.uploads, 'sniff.txt'), '<html><script>1</script>');
    const upload = await http(A.domains[0] ?? '', '/wp-content/uploads/sniff.txt');
    expect(upload.status).toBe(200);
    expect(upload.headers['x-content-type-options']).toBe('nosniff');
    await expect(http(`nobody-${suffix}.example.test`, '/')).rejects.toThrow();
    expect(readFileSync(defaultServerFile(settings.nginx.sitesDir), 'utf8')).toContain('return 444;');
  });

  it('refuses xmlrpc.php unless the site opts in; two sites\' nginx changes at once do not interleave', async () => {
    expect((await http(A.domains[0] ?? '', '/xmlrpc.php', { method: 'POST', body: 'x' })).status).toBe(403);
    expect((await http(B.domains[0] ?? '', '/xmlrpc.php', { method: 'POST', body: 'x' })).status).toBe(403);
    // B opts in while another block, broken, is tried at the same moment: each change is tested
    // alone, so the broken one is refused and removed and B's goes live.
    const broken = join(settings.nginx.sitesDir, `site_${suffix}racing.conf`);
    const xmlrpcB = siteConfig(B.name, B.id, B.wordpress?.title ?? '', true);
    const [optIn, refused] = await Promise.allSettled([host.provision(xmlrpcB, QUIET), ensureServerBlock(settings.nginx.command, broken, 'server { listen 127.0.0.1:99999; }\n')]);
    expect(optIn.status).toBe('fulfilled');
    expect(refused.status).toBe('rejected');
    expect(existsSync(broken)).toBe(false);
    const served = await http(B.domains[0] ?? '', '/xmlrpc.php');
    expect(served.status).not.toBe(403);
    expect(served.body).toContain('XML-RPC');
    await host.provision(B, QUIET);
    expect((await http(B.domains[0] ?? '', '/xmlrpc.php')).status).toBe(403);
  });

  it('applies changed PHP and resource settings with a graceful reload of the same master', async () => {
    const pid = readFileSync(pathsA.fpmPid, 'utf8').trim();
    const changed: SiteConfig = { ...A, php: { version: '8.2', memoryLimitMb: 160, maxChildren: 4, uploadMaxMb: 16 }, resources: { cpuPercent: 150, memoryMib: 320 } };
    const reporter = new RecordingReporter();
    await host.provision(changed, reporter);
    expect(reporter.lines).toContain(`php-fpm ${account(A)}: reloaded (pid ${pid})`);
    expect(readFileSync(pathsA.fpmPid, 'utf8').trim()).toBe(pid);
    expect(readFileSync(pathsA.fpmConfig, 'utf8')).toContain('pm.max_children = 4');
    const probe = JSON.parse((await http(A.domains[0] ?? '', '/pressluft-probe.php')).body) as { memory: string };
    expect(probe.memory).toBe('160M');
    expect(readFileSync(join(cgroupParents[0] ?? '', account(A), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(320 * 1024 * 1024));
    expect(readFileSync(join(cgroupParents[1] ?? '', account(A), 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('150000');
    expect(readFileSync(join(cgroupParents[0] ?? '', account(A), 'cgroup.procs'), 'utf8')).toContain(pid);
  });

  it('keeps the old server block when nginx -t rejects a new one', async () => {
    const previous = readFileSync(pathsB.nginxFile, 'utf8');
    const broken = previous.replace(/listen [^;]+;/, 'listen 127.0.0.1:99999;');
    await expect(ensureServerBlock(settings.nginx.command, pathsB.nginxFile, broken)).rejects.toBeInstanceOf(NginxConfigError);
    expect(readFileSync(pathsB.nginxFile, 'utf8')).toBe(previous);
    const fresh = join(settings.nginx.sitesDir, `site_${suffix}broken.conf`);
    await expect(ensureServerBlock(settings.nginx.command, fresh, broken)).rejects.toBeInstanceOf(NginxConfigError);
    expect(existsSync(fresh)).toBe(false);
    expect((await http(B.domains[0] ?? '', '/')).status).toBe(200);
  });

  it('fails a provision at the step that broke, without secrets, and remove() cleans up after it', async () => {
    const pathsC = sitePaths(settings, C.name, C.id);
    const themeless = join(root, 'themeless');
    for (const dir of ['wp-includes', 'wp-content/themes']) mkdirSync(join(themeless, dir), { recursive: true });
    writeFileSync(join(themeless, 'wp-includes', 'version.php'), "<?php $wp_version = '6.1';");
    writeFileSync(join(themeless, 'wp-load.php'), '<?php');
    const broken = new SiteHost({ ...settings, wordpressSource: themeless }, createLogger({ name: 'site-host-test', level: 'silent' }));
    const reporter = new RecordingReporter();
    const error = await broken.provision(C, reporter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ step: 'release', reason: 'ReleaseFailed' });
    expect((error as Error).message).toMatch(/no theme/);
    expect((error as Error).message).not.toContain(readFileSync(pathsC.dbPasswordFile, 'utf8').trim());
    expect(reporter.steps).toEqual(['validate', 'user', 'tree', 'database', 'cgroup', 'php-fpm', 'wp-config', 'release']);
    // nothing was served: no server block, and WordPress was never installed
    expect(existsSync(pathsC.nginxFile)).toBe(false);
    const masterPid = Number(readFileSync(pathsC.fpmPid, 'utf8').trim());
    await broken.remove(C.name, C.id, new RecordingReporter());
    expect(existsSync(`/proc/${masterPid}`)).toBe(false);
    expect(await lookupUser(account(C))).toBeUndefined();
    expect(existsSync(pathsC.root)).toBe(false);
    expect(await broken.databasePresent(C.id)).toEqual({ database: false, user: false });
  });

  it('removes everything of a site, in reverse order', async () => {
    for (const [site, paths] of [
      [A, pathsA],
      [B, pathsB],
    ] as const) {
      const masterPid = Number(readFileSync(paths.fpmPid, 'utf8').trim());
      const reporter = new RecordingReporter();
      const started = performance.now();
      await host.remove(site.name, site.id, reporter);
      timings[`remove ${site === A ? 'A' : 'B'}`] = Math.round(performance.now() - started);
      expect(reporter.steps).toEqual(['nginx', 'php-fpm', 'cgroup', 'database', 'tree', 'state', 'user']);
      expect(await lookupUser(account(site))).toBeUndefined();
      expect(await lookupGroup(account(site))).toBeUndefined();
      expect(existsSync(`/proc/${masterPid}`)).toBe(false);
      for (const dir of cgroupParents) expect(existsSync(join(dir, account(site)))).toBe(false);
      expect(existsSync(paths.nginxFile)).toBe(false);
      expect(await host.databasePresent(site.id)).toEqual({ database: false, user: false });
      expect(existsSync(paths.root)).toBe(false);
      expect(existsSync(paths.state)).toBe(false);
      expect(existsSync(paths.fpmDir)).toBe(false);
      // the node's default server closes a request for a host no site claims (444: no response)
      await expect(http(site.domains[0] ?? '', '/')).rejects.toThrow(/socket hang up/);
      // removing again is fine
      await host.remove(site.name, site.id, new RecordingReporter());
    }
    expect(await host.observe()).toEqual([]);
    const leftovers = await exec(['/usr/bin/pgrep', '-f', root]);
    expect(leftovers.stdout.trim()).toBe('');
  });
});
