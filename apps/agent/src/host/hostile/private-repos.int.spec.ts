import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import type { GitSource } from '@pressluft/proto';
import { createTestPki } from '@pressluft/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { smartHttpServer, testSshd, type SmartHttpServer, type TestSshd } from '../../../test/git-servers.js';
import { hostHarness, RecordingReporter, siteRequest } from '../../../test/host-harness.js';
import { hostileSite, removeSites } from '../../../test/hostile-sites.js';
import { deployKeyPath } from '../deploy-key.js';
import { exec, execOk } from '../exec.js';
import { sitePaths } from '../naming.js';
import { SiteHost, StepError } from '../site-host.js';
import { requireUser } from '../users.js';

// Private repositories as agencies keep them: https with a token (a smart-HTTP server behind basic
// auth), ssh with the site's deploy key (a real sshd with a pinned host key), and a ref that is
// a commit id. The tenant angle: the deploy key and the token's file are root's and out of the
// site user's reach, and the token is in no log line, message or file left behind.

const services = inject('services');
const suffix = randomBytes(3).toString('hex');
const SITE = hostileSite(`priv-${suffix}`);
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;

describe('private repositories: https token, ssh deploy key, commit ids', () => {
  const harness = hostHarness(services, `pressluft-priv-${suffix}`, { gitAllowLocal: true });
  const { root } = harness;
  const caFile = join(root, 'git-ca.pem');
  const settings = { ...harness.settings, gitCaFile: caFile };
  const host = new SiteHost(settings, createLogger({ name: 'private-repos', level: process.env['HOST_TEST_LOG'] ?? 'warn' }));
  const paths = sitePaths(settings, SITE.name, SITE.id);
  const work = join(root, 'work');
  const projectRoot = join(root, 'http-repos');
  const commits: string[] = [];
  let tenant = { uid: -1, gid: -1 };
  let v2: SmartHttpServer;
  let v0: SmartHttpServer;
  let sshd: TestSshd | undefined;
  /** What the site user could see of the token's file while a fetch ran (the server asks on every request). */
  const duringFetch: string[] = [];

  const asTenant = (...argv: string[]) => exec(argv, { uid: tenant.uid, gid: tenant.gid });
  const git = (...args: string[]) =>
    execOk(['/usr/bin/git', '-C', work, '-c', 'user.name=T', '-c', 'user.email=t@example.test', ...args], { env: { PATH: '/usr/bin:/bin', HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
  const marker = async () => (await siteRequest(services, SITE.domains[0] ?? '')).headers['x-pressluft-marker'];
  const source = (url: string, ref: string, extra: Partial<GitSource> = {}): GitSource => ({ url, ref, knownHosts: '', username: '', token: false, ...extra });
  const deploy = (git: GitSource, secrets = {}, reporter = new RecordingReporter()) => host.deploy({ ...SITE, git }, reporter, secrets);
  const failure = (operation: Promise<unknown>) =>
    operation.then(
      () => {
        throw new Error('the deploy succeeded');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(StepError);
        return error as StepError;
      },
    );
  /** Every file under `dir` whose content holds `needle` (the token must be in none). */
  const filesHolding = (dir: string, needle: string): string[] =>
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .filter((file) => statSync(file).size < 4 * 1024 * 1024 && readFileSync(file).includes(needle));
  /** What the site user can do with the token file of a running fetch, seen from the git server. */
  const probeTokenFile = async () => {
    const gitWork = join(settings.stateDir, 'git', SITE.name);
    for (const clone of readdirSync(gitWork)) {
      const file = join(gitWork, clone, 'access', 'token');
      const stat = statSync(file, { throwIfNoEntry: false });
      if (!stat) continue;
      const read = await asTenant('/bin/cat', file);
      duringFetch.push(`${(stat.mode & 0o777).toString(8)} uid ${stat.uid} tenant read ${read.code === 0 ? 'ok' : 'refused'}`);
    }
  };

  beforeAll(async () => {
    const pki = await createTestPki();
    writeFileSync(caFile, pki.ca.cert, { mode: 0o644 });
    mkdirSync(work);
    await git('init', '--quiet', '-b', 'main');
    for (const version of ['v1', 'v2']) {
      mkdirSync(join(work, 'wp-content', 'mu-plugins'), { recursive: true });
      writeFileSync(join(work, 'wp-content', 'mu-plugins', 'marker.php'), `<?php\nheader('X-Pressluft-Marker: ${version}');\n`);
      await git('add', '-A');
      await git('commit', '--quiet', '-m', version);
      commits.push((await git('rev-parse', 'HEAD')).trim());
    }
    mkdirSync(projectRoot);
    await execOk(['/usr/bin/git', 'clone', '--quiet', '--bare', work, join(projectRoot, 'site.git')], { env: { PATH: '/usr/bin:/bin', HOME: root } });
    const server = { projectRoot, tls: pki.server, username: 'x-access-token', token: TOKEN, onAuthorized: probeTokenFile };
    v2 = await smartHttpServer({ ...server, v2: true });
    v0 = await smartHttpServer({ ...server, v2: false });
    await host.provision(SITE, new RecordingReporter());
    tenant = await requireUser(`site_${SITE.id}`);
  }, 240_000);

  afterAll(async () => {
    await v2?.close();
    await v0?.close();
    await sshd?.close();
    await removeSites(host, harness, [SITE]);
  }, 120_000);

  it('provision made the deploy key: root 0600 in a root-only dir, out of the site user\'s reach; identity() has its public half', async () => {
    const key = deployKeyPath(paths);
    expect(statSync(key)).toMatchObject({ uid: 0, gid: 0 });
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(paths.state).mode & 0o777).toBe(0o700);
    expect((await asTenant('/bin/cat', key)).code).not.toBe(0);
    expect((await asTenant('/bin/ls', paths.state)).code).not.toBe(0);
    const identity = await host.identity(SITE.name, SITE.id);
    expect(identity.deployPublicKey).toMatch(new RegExp(`^ssh-ed25519 [A-Za-z0-9+/]{68} pressluft-site-${SITE.name}$`));
    expect(identity.deployPublicKey).toBe(readFileSync(`${key}.pub`, 'utf8').trim());
    expect(identity.currentCommit).toBe('');
    // Idempotent: provisioning again keeps the key.
    await host.provision(SITE, new RecordingReporter());
    expect((await host.identity(SITE.name, SITE.id)).deployPublicKey).toBe(identity.deployPublicKey);
  }, 120_000);

  it('https with the right token builds the release from the commit, records it, and leaves the token nowhere', async () => {
    const reporter = new RecordingReporter();
    const result = await deploy(source(`https://127.0.0.1:${v2.port}/site.git`, 'main', { username: 'x-access-token', token: true }), { gitToken: TOKEN }, reporter);
    expect(await marker()).toBe('v2');
    expect((await host.identity(SITE.name, SITE.id)).currentCommit).toBe(commits[1]);
    expect(reporter.lines).toContain(`git: https://127.0.0.1:${v2.port}/site.git at main fetched, commit ${commits[1]}`);
    expect(JSON.parse(readFileSync(join(paths.state, 'release-commits.json'), 'utf8'))).toMatchObject({ [result.currentRelease]: commits[1] });
    // While git ran, its token file was root's 0600 and the site user could not read it.
    expect(duringFetch.length).toBeGreaterThan(0);
    expect(new Set(duringFetch)).toEqual(new Set(['600 uid 0 tenant read refused']));
    expect([...reporter.lines, ...reporter.progressLines].filter((line) => line.includes(TOKEN))).toEqual([]);
    expect(readdirSync(join(settings.stateDir, 'git', SITE.name))).toEqual([]);
    expect([...filesHolding(settings.stateDir, TOKEN), ...filesHolding(settings.sitesRoot, TOKEN)]).toEqual([]);
  }, 120_000);

  it('https with a wrong token (or none) fails clearly: GitAuthFailed, the release stays, the token in no message', async () => {
    const before = await host.releases(SITE.name);
    const refusedBefore = v2.refused;
    const wrong = `${TOKEN}-wrong`;
    const reporter = new RecordingReporter();
    const error = await failure(deploy(source(`https://127.0.0.1:${v2.port}/site.git`, 'main', { username: 'x-access-token', token: true }), { gitToken: wrong }, reporter));
    expect(error).toMatchObject({ step: 'fetch', reason: 'GitAuthFailed' });
    expect(error.message).toMatch(/refused the token/);
    expect(v2.refused).toBeGreaterThan(refusedBefore);
    expect([error.message, ...reporter.lines].filter((line) => line.includes(wrong) || line.includes(TOKEN))).toEqual([]);
    const missing = await failure(deploy(source(`https://127.0.0.1:${v2.port}/site.git`, 'main', { username: 'x-access-token', token: true })));
    expect(missing).toMatchObject({ step: 'fetch', reason: 'GitAuthFailed' });
    expect(await host.releases(SITE.name)).toEqual(before);
    expect(readdirSync(join(settings.stateDir, 'git', SITE.name))).toEqual([]);
    expect(filesHolding(settings.stateDir, wrong)).toEqual([]);
  }, 120_000);

  it('a commit id deploys exactly that commit: file://, https (protocol v2) and a v0 server that refuses unadvertised commits (full fetch)', async () => {
    const older = commits[0] ?? '';
    // The v0 server refuses a commit it does not advertise (what the agent falls back from).
    const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
    const probe = join(root, 'v0-probe');
    await execOk(['/usr/bin/git', 'init', '--quiet', probe]);
    const direct = await exec(['/usr/bin/git', '-C', probe, '-c', `http.sslCAInfo=${caFile}`, '-c', auth, 'fetch', '--depth', '1', `https://127.0.0.1:${v0.port}/site.git`, older], { env: { PATH: '/usr/bin:/bin', HOME: root } });
    expect(direct.stderr).toMatch(/not our ref|unadvertised object/);
    for (const url of [`file://${work}`, `https://127.0.0.1:${v2.port}/site.git`, `https://127.0.0.1:${v0.port}/site.git`]) {
      const https = url.startsWith('https://');
      await deploy(source(url, older, https ? { username: 'x-access-token', token: true } : {}), https ? { gitToken: TOKEN } : {});
      expect(await marker()).toBe('v1');
      expect((await host.identity(SITE.name, SITE.id)).currentCommit).toBe(older);
      await deploy(source(url, 'main', https ? { username: 'x-access-token', token: true } : {}), https ? { gitToken: TOKEN } : {});
      expect((await host.identity(SITE.name, SITE.id)).currentCommit).toBe(commits[1]);
    }
    // A commit the repository does not have: the fetch fails, nothing changes.
    const error = await failure(deploy(source(`file://${work}`, 'f'.repeat(40))));
    expect(error).toMatchObject({ step: 'fetch', reason: 'GitFetchFailed' });
    expect(error.message).toMatch(new RegExp(`the repository has no commit ${'f'.repeat(40)}$`));
    expect((await host.identity(SITE.name, SITE.id)).currentCommit).toBe(commits[1]);
    // A rollback reports the commit of the release it went back to.
    await host.rollbackTo(SITE.name, SITE.id, undefined, new RecordingReporter());
    expect((await host.identity(SITE.name, SITE.id)).currentCommit).toBe(older);
  }, 300_000);

  describe('ssh with the deploy key against a real sshd', () => {
    beforeAll(async () => {
      const dir = join(root, 'sshd');
      mkdirSync(dir, { mode: 0o755 });
      sshd = await testSshd(dir);
      await execOk(['/usr/bin/git', 'clone', '--quiet', '--bare', work, join(sshd.repositories, 'site.git')], { env: { PATH: '/usr/bin:/bin', HOME: root } });
      const owner = await requireUser(sshd.user);
      for (const entry of readdirSync(sshd.repositories, { recursive: true, encoding: 'utf8' })) chownSync(join(sshd.repositories, entry), owner.uid, owner.gid);
      sshd.authorize((await host.identity(SITE.name, SITE.id)).deployPublicKey);
    }, 60_000);

    const url = () => `ssh://${sshd?.user ?? ''}@127.0.0.1:${sshd?.port ?? 0}${sshd?.repositories ?? ''}/site.git`;

    it('the pinned host key: the release is built and its commit recorded', async () => {
      await deploy(source(url(), 'main', { knownHosts: sshd?.knownHosts ?? '' }));
      expect(await marker()).toBe('v2');
      expect((await host.identity(SITE.name, SITE.id)).currentCommit).toBe(commits[1]);
      await deploy(source(url(), commits[0] ?? '', { knownHosts: sshd?.knownHosts ?? '' }));
      expect((await host.identity(SITE.name, SITE.id)).currentCommit).toBe(commits[0]);
    }, 120_000);

    it('another pinned key: GitHostKeyMismatch; a key the server does not know: GitAuthFailed', async () => {
      const other = join(root, 'other-host-key');
      await execOk(['/usr/bin/ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const pinned = `[127.0.0.1]:${sshd?.port ?? 0} ${readFileSync(`${other}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`;
      const mismatch = await failure(deploy(source(url(), 'main', { knownHosts: pinned })));
      expect(mismatch).toMatchObject({ step: 'fetch', reason: 'GitHostKeyMismatch' });
      expect(mismatch.message).toMatch(/host key is not one of spec.code.git.knownHosts \(.*(Host key verification failed|host key is known)/);
      const stranger = `ssh://${sshd?.user ?? ''}x@127.0.0.1:${sshd?.port ?? 0}${sshd?.repositories ?? ''}/site.git`;
      const refused = await failure(deploy(source(stranger, 'main', { knownHosts: sshd?.knownHosts ?? '' })));
      expect(refused).toMatchObject({ step: 'fetch', reason: 'GitAuthFailed' });
      expect(refused.message).toMatch(/refused the site's deploy key \(.*Permission denied \(publickey\)/);
      expect((await host.identity(SITE.name, SITE.id)).currentCommit).toBe(commits[0]);
    }, 120_000);
  });

  it('removing the site removes its deploy key and commit record', async () => {
    const key = deployKeyPath(paths);
    await host.remove(SITE.name, SITE.id, new RecordingReporter());
    expect(statSync(key, { throwIfNoEntry: false })).toBeUndefined();
    expect(statSync(paths.state, { throwIfNoEntry: false })).toBeUndefined();
    expect(await host.identity(SITE.name, SITE.id)).toEqual({ currentCommit: '', deployPublicKey: '' });
  }, 120_000);
});
