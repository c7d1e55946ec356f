/**
 * tools/bench/backup: one real site with ~200 MB of uploads (BENCH_UPLOAD_MB) and a ~50 MB
 * database (BENCH_DB_MB): the agent's full backup, the incremental backup of the unchanged site,
 * and the restore (staged, health-checked, switched), each beside the raw commands a person would
 * type on the same data in the same run (mariadb-dump | restic backup --stdin, tar | restic backup
 * --stdin; restic dump | mariadb, restic dump | tar -x) into a repository of their own. A benchmark:
 * it prints numbers and asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { describeShared, Harness, run } from '@pressluft/testing';
import { SiteHost, type StepReporter } from '../../apps/agent/src/host/site-host.js';
import { hostHarness } from '../../apps/agent/test/host-harness.js';
import { runBenchmark } from './bench-plane.js';
import { benchSiteConfig, DB_MB, fillBenchSite, UPLOAD_MB } from './bench-site.js';
import { pipe, timed } from './shell.js';

const quiet: StepReporter = { progress: () => Promise.resolve(), log: () => Promise.resolve() };

async function main(): Promise<void> {
  const harness = await Harness.start({ postgres: true, nats: true, mariadb: true, nginx: true, phpFpm: true, redis: true });
  const services = describeShared(harness);
  const node = hostHarness(services, `pressluft-bench-${randomBytes(3).toString('hex')}`);
  const host = new SiteHost(node.settings, createLogger({ name: 'bench-backup', level: 'silent' }));
  const work = mkdtempSync(join(tmpdir(), 'pressluft-bench-backup-'));
  const site = benchSiteConfig('bkbench', 'production', 'Bench backup');
  const account = `site_${site.id}`;
  const mariadb = ['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`];
  try {
    await host.provision(site, quiet);
    const root = join(node.settings.sitesRoot, site.name);
    await fillBenchSite(root, mariadb, account, 'bench_posts');

    const agentRepo = join(work, 'agent-repo');
    const rawRepo = join(work, 'raw-repo');
    const passwordFile = join(work, 'password');
    writeFileSync(passwordFile, 'bench-password-not-secret\n', { mode: 0o600 });
    const store = { repository: agentRepo, password: 'bench-password-not-secret', sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' };
    const env = { PATH: '/usr/bin:/bin', RESTIC_REPOSITORY: rawRepo, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: join(work, 'raw-cache') };
    await run(['/usr/bin/restic', 'init'], { env });
    const { currentRelease } = await host.releases(site.name).then((r) => ({ currentRelease: r.current ?? '' }));

    const rawBackup = async () => {
      await pipe(['/usr/bin/mariadb-dump', `--defaults-file=${services.mariadb.defaultsFile}`, '--single-transaction', '--quick', account], ['/usr/bin/restic', 'backup', '--stdin', '--stdin-filename', 'database.sql', '--tag', 'part=database'], env);
      await pipe(['/usr/bin/tar', '--sort=name', '-C', root, '-cf', '-', `releases/${currentRelease}`, 'shared/uploads'], ['/usr/bin/restic', 'backup', '--stdin', '--stdin-filename', 'files.tar', '--tag', 'part=files'], env);
    };
    const agentBackup = (name: string) => host.backup({ name: site.name, id: site.id, backup: name, store }, quiet);

    const rawFull = await timed(rawBackup);
    let result = await agentBackup('bench-full');
    // Measured on a fresh repository, made beforehand like the raw one (restic init is not part of either figure).
    rmSync(agentRepo, { recursive: true, force: true });
    await run(['/usr/bin/restic', 'init'], { env: { ...env, RESTIC_REPOSITORY: agentRepo } });
    const agentFull = await timed(async () => {
      result = await agentBackup('bench-full-2');
    });
    const rawIncremental = await timed(rawBackup);
    const agentIncremental = await timed(() => agentBackup('bench-incremental'));

    const restoreDir = join(work, 'raw-restore');
    mkdirSync(restoreDir);
    await run([...mariadb, '-e', 'CREATE DATABASE bench_raw_restore']);
    const rawRestore = await timed(async () => {
      await pipe(['/usr/bin/restic', 'dump', 'latest', '/database.sql', '--tag', 'part=database'], [...mariadb, 'bench_raw_restore'], env);
      await pipe(['/usr/bin/restic', 'dump', 'latest', '/files.tar', '--tag', 'part=files'], ['/usr/bin/tar', '-x', '-C', restoreDir], env);
    });
    await run([...mariadb, '-e', 'DROP DATABASE bench_raw_restore']);
    const agentRestore = await timed(() => host.restore({ site, backup: 'bench-full-2', snapshots: result.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: site.domains, store, parts: [] }, quiet));

    const line = (what: string, agent: number, raw: number, goal: string) => console.log(`${what.padEnd(22)} agent ${agent.toFixed(2)} s   raw ${raw.toFixed(2)} s   ratio ${(agent / raw).toFixed(2)}   (${goal})`);
    console.log(`site: ${UPLOAD_MB} MiB of uploads in ${UPLOAD_MB} files, ${DB_MB}k rows (~${DB_MB} MB) in the database; restic ${(await run(['/usr/bin/restic', 'version'])).trim()}`);
    console.log(`agent full backup: ${result.bytesAdded} bytes added, ${result.bytesTotal} bytes read, ${result.files} files`);
    line('full backup', agentFull, rawFull, 'goal: ratio <= 1.2');
    line('incremental backup', agentIncremental, rawIncremental, 'goal: agent < 3 s');
    line('restore', agentRestore, rawRestore, 'goal: ratio <= 1.5');
  } finally {
    await host.remove(site.name, site.id, quiet).catch((error: unknown) => console.error(String(error)));
    await host.stopAll();
    node.cleanup();
    rmSync(work, { recursive: true, force: true });
    await harness.stop();
  }
}

runBenchmark(main);
