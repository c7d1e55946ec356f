import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portOpen, repoRoot } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_CAPTURE_BYTES } from '../capped.js';
import { exec, execOk } from '../exec.js';
import { fastcgiRequest } from '../fastcgi.js';
import { fetchGit, GitFetchError } from '../git.js';
import { healthParams } from '../health.js';
import { asSiteUser } from '../jail.js';
import { requireUser } from '../users.js';
import { getWithHost } from '../verify.js';
import { isInstalledArgv, wpCliEnv } from '../wordpress.js';

// A site's code and repository are the tenant's, so hostile: whatever they print, stream or
// hold, the agent keeps at most a fixed amount of it in memory and gives up within a fixed time.

const services = inject('services');
const MiB = 1024 * 1024;
/** Headroom for the test process's own allocations; the attacks below are 100 MB to 1 GB. */
/**
 * Peak RSS growth allowed: chunks already dropped count until a GC frees them, so a capped run can
 * reach ~100 MiB on a busy machine; an uncapped one holds every byte (and a string copy) of 400 MB.
 */
const MEMORY_SLACK = 160 * MiB;

/** Runs `work` while sampling the process's resident memory; the peak growth over the start. */
async function peakGrowth<T>(work: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const value = await work();
    return { value, growth: Math.max(peak, process.memoryUsage.rss()) - start };
  } finally {
    clearInterval(sampler);
  }
}

const root = mkdtempSync(join(tmpdir(), 'hostile-bounded-'));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A TCP server on loopback that does `serve` with every connection; close() ends it and them. */
async function tcpServer(serve: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Processes whose command line holds `text` (what a clone left running). */
function processesMentioning(text: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .map((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        return '';
      }
    })
    .filter((cmdline) => cmdline.includes(text));
}

/** A world-readable dir with one PHP file (what a tenant's release would hold). */
function phpFile(name: string, code: string, file = 'index.php'): string {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, file), code, { mode: 0o644 });
  return dir;
}

const STREAM_1GB = `<?php
header('Content-Type: text/plain');
$chunk = str_repeat('x', 65536);
for ($i = 0; $i < 16384; $i++) { echo $chunk; flush(); }
`;

describe('hostile: output the agent captures is capped', () => {
  it("a release whose index.php streams 1 GB: the health check through the site's PHP-FPM pool ends after 1 MiB with the status, memory stays flat", async () => {
    const release = phpFile('stream-fpm', STREAM_1GB);
    const started = Date.now();
    // What checkRelease sends, on the harness's pool (www-data, like a site's pool user).
    const params = healthParams({ releaseDir: release, domain: 'attacker.test', serverPort: 80, https: false });
    const { value: answer, growth } = await peakGrowth(() => fastcgiRequest(services.phpFpm.defaultSocket, params));
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBeLessThanOrEqual(DEFAULT_CAPTURE_BYTES);
    expect(answer.body.length).toBeGreaterThan(DEFAULT_CAPTURE_BYTES - 1024);
    expect(growth).toBeLessThan(MEMORY_SLACK);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  describe('the verify probe against a site that streams', () => {
    let server: ChildProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      const site = phpFile('stream-http', STREAM_1GB);
      // PHP's built-in server in a process of its own: only the probe's memory is measured.
      const tenant = await requireUser('www-data');
      server = spawn('/usr/bin/php', ['-S', `127.0.0.1:${port}`, join(site, 'index.php')], { cwd: site, stdio: 'ignore', uid: tenant.uid, gid: tenant.gid });
      for (let i = 0; i < 100 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 50));
    });
    afterAll(() => {
      if (server.pid !== undefined) process.kill(server.pid, 'SIGKILL');
    });

    it('a page of 1 GB: the probe reads 1 MiB, answers with the status, memory stays flat', async () => {
      const { value: probe, growth } = await peakGrowth(() => getWithHost('127.0.0.1', port, 'attacker.test', '/', 10_000));
      expect(probe.status).toBe(200);
      expect(probe.body).toMatch(/\n\[\.\.\. \d+ bytes dropped\]$/);
      expect(growth).toBeLessThan(MEMORY_SLACK);
    });
  });

  it('a page that trickles a byte every 200 ms (never idle long enough for a socket timeout): the probe gives up at its timeout', async () => {
    const server = await tcpServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n');
      const timer = setInterval(() => socket.write('1\r\nx\r\n'), 200);
      socket.on('close', () => clearInterval(timer));
    });
    try {
      const started = Date.now();
      await expect(getWithHost('127.0.0.1', server.port, 'attacker.test', '/', 1500)).rejects.toThrow(/no answer within 1500 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await server.close();
    }
  });

  it('WP-CLI loading a site whose code prints 200 MB to stdout and to stderr: the tails are kept, the run completes, memory stays flat', async () => {
    // `wp core is-installed` loads the site's wp-load.php: here the tenant's, which floods.
    const release = phpFile('wp-cli-flood', `<?php
$chunk = str_repeat('y', 65536);
for ($i = 0; $i < 3200; $i++) { fwrite(STDOUT, $chunk); fwrite(STDERR, $chunk); }
fwrite(STDOUT, "LAST-OUT\\n");
fwrite(STDERR, "LAST-ERR\\n");
exit(0);
`,
      'wp-load.php',
    );
    mkdirSync(join(release, 'wp-includes'), { mode: 0o755 });
    writeFileSync(join(release, 'wp-includes', 'version.php'), "<?php $wp_version = '6.4.3';\n", { mode: 0o644 });
    const tenant = await requireUser('www-data');
    const wpCli = ['/usr/bin/php', join(repoRoot(__dirname), 'tools', 'wp-cli', 'wp')];
    // As ensureInstalled runs it (its jail aside): as the site user, with the pool's PHP limits.
    const env = wpCliEnv(join(repoRoot(__dirname), 'templates'), { root: release, tmp: release });
    const run = () => exec(asSiteUser(tenant, isInstalledArgv(wpCli, release)), { env, cwd: release, timeoutMs: 120_000 });
    const { value: result, growth } = await peakGrowth(run);
    expect(result.code).toBe(0);
    for (const [stream, last] of [
      [result.stdout, 'LAST-OUT\n'],
      [result.stderr, 'LAST-ERR\n'],
    ] as const) {
      expect(stream).toMatch(/^\[\.\.\. \d+ bytes dropped\]\ny/);
      expect(stream.endsWith(last)).toBe(true);
      expect(Buffer.byteLength(stream)).toBeLessThan(DEFAULT_CAPTURE_BYTES + 64);
    }
    expect(growth).toBeLessThan(MEMORY_SLACK);
  });
});

describe('hostile: a site repository is cloned within size, file and time limits', () => {
  const work = join(root, 'git-work');
  const local = { allowLocal: true };
  const limits = { maxBytes: 4 * MiB, maxFiles: 200, timeoutMs: 60_000 };

  /** A repository at `dir` with what `fill` writes into its tree, committed. */
  async function repository(name: string, fill: (tree: string) => Promise<void> | void): Promise<string> {
    const dir = join(root, name);
    mkdirSync(dir);
    const git = (...args: string[]) => execOk(['/usr/bin/git', '-c', 'user.name=t', '-c', 'user.email=t@t', '-C', dir, ...args], { timeoutMs: 120_000 });
    await git('init', '--quiet', '--initial-branch=main');
    await fill(dir);
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'tenant');
    return `file://${dir}`;
  }
  const cloneDirs = () => readdirSync(work);

  it('a repository of 48 MB against a 4 MiB limit: the clone is stopped, GitSourceTooLarge, nothing left behind', async () => {
    const url = await repository('huge', (tree) => execOk(['/bin/sh', '-c', `head -c ${48 * MiB} /dev/urandom > '${join(tree, 'blob.bin')}'`]).then(() => undefined));
    await expect(fetchGit({ url, ref: 'main' }, work, local, limits)).rejects.toMatchObject({
      reason: 'GitSourceTooLarge',
      message: expect.stringContaining(`stopped: the repository holds more than ${limits.maxBytes} bytes`) as unknown,
    });
    expect(cloneDirs()).toEqual([]);
    expect(processesMentioning(url)).toEqual([]);
  });

  it('a repository of 1000 small files against a 200-file limit: GitSourceTooLarge, nothing left behind', async () => {
    const url = await repository('many', (tree) => {
      for (let i = 0; i < 1000; i++) writeFileSync(join(tree, `f${i}.php`), `<?php // ${i}\n`);
    });
    await expect(fetchGit({ url, ref: 'main' }, work, local, limits)).rejects.toMatchObject({ reason: 'GitSourceTooLarge', message: expect.stringContaining('more than 200 files') as unknown });
    expect(cloneDirs()).toEqual([]);
  });

  it('a git server that accepts the connection and never answers: the clone and its helpers are killed at the time limit, nothing left behind', async () => {
    const server = await tcpServer(() => undefined);
    try {
      const started = Date.now();
      const fetching = fetchGit({ url: `https://127.0.0.1:${server.port}/site.git`, ref: 'main' }, work, { allowLocal: false }, { ...limits, timeoutMs: 1500 });
      await expect(fetching).rejects.toThrow(GitFetchError);
      await expect(fetching).rejects.toThrow(/did not finish within 2 s/);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(cloneDirs()).toEqual([]);
      expect(processesMentioning(`127.0.0.1:${server.port}`)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('a repository within the limits is cloned', async () => {
    const url = await repository('fine', (tree) => {
      mkdirSync(join(tree, 'plugins'));
      writeFileSync(join(tree, 'plugins', 'hello.php'), '<?php // hello\n');
    });
    const fetched = await fetchGit({ url, ref: 'main' }, work, local, limits);
    expect(readdirSync(join(fetched.content, 'plugins'))).toEqual(['hello.php']);
    rmSync(fetched.dir, { recursive: true, force: true });
  });
});
