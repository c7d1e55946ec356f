/**
 * tools/bench/clone: one real site with ~200 MB of uploads (BENCH_UPLOAD_MB) and a ~50 MB
 * database (BENCH_DB_MB) cloned to a new site on the same node the way the control plane does it
 * (a backup of the source into a restic repository, then CloneSite: provision the copy and restore
 * the backup into it, URLs rewritten), beside what a person would type for the same copy in the
 * same run: `cp -a` of the release and the uploads, `mariadb-dump | mariadb` into a new database,
 * and `wp search-replace` by hand. A benchmark: it prints numbers and asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { describeShared, Harness, repoRoot, run } from '@pressluft/testing';
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
  const host = new SiteHost(node.settings, createLogger({ name: 'bench-clone', level: 'silent' }));
  const work = mkdtempSync(join(tmpdir(), 'pressluft-bench-clone-'));
  const source = benchSiteConfig('clbench', 'production', 'Bench clone');
  const copy = benchSiteConfig('clbench-copy', 'staging', 'Bench clone');
  const account = `site_${source.id}`;
  const mariadb = ['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`];
  try {
    await host.provision(source, quiet);
    const root = join(node.settings.sitesRoot, source.name);
    await fillBenchSite(root, mariadb, account, 'wp_bench_posts', `http://${source.domains[0]}`);

    const repo = join(work, 'repo');
    const store = { repository: repo, password: 'bench-password-not-secret', sshPrivateKey: '', sshKnownHosts: '', restUsername: '', restPassword: '' };
    const passwordFile = join(work, 'password');
    writeFileSync(passwordFile, `${store.password}\n`, { mode: 0o600 });
    await run(['/usr/bin/restic', 'init'], { env: { PATH: '/usr/bin:/bin', RESTIC_REPOSITORY: repo, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: join(work, 'cache') } });

    // The raw copy: the tree, the database, a wp-config.php of its own, then search-replace (as root).
    const rawDir = join(work, 'raw-copy');
    const current = realpathSync(join(root, 'current'));
    const raw = await timed(async () => {
      mkdirSync(rawDir);
      await run(['/usr/bin/cp', '-a', current, join(rawDir, 'release')]);
      await run(['/usr/bin/cp', '-a', join(root, 'shared', 'uploads'), join(rawDir, 'uploads')]);
      await run([...mariadb, '-e', "CREATE DATABASE bench_raw; CREATE USER bench_raw@localhost IDENTIFIED BY 'bench-raw'; GRANT ALL ON bench_raw.* TO bench_raw@localhost;"]);
      await pipe(['/usr/bin/mariadb-dump', `--defaults-file=${services.mariadb.defaultsFile}`, '--single-transaction', '--quick', account], [...mariadb, 'bench_raw']);
      const wpConfig = readFileSync(join(root, 'shared', 'wp-config.php'), 'utf8')
        .replace(/define\( 'DB_NAME', '[^']*' \);/, "define( 'DB_NAME', 'bench_raw' );")
        .replace(/define\( 'DB_USER', '[^']*' \);/, "define( 'DB_USER', 'bench_raw' );")
        .replace(/define\( 'DB_PASSWORD', '[^']*' \);/, "define( 'DB_PASSWORD', 'bench-raw' );");
      rmSync(join(rawDir, 'release', 'wp-config.php'), { force: true });
      writeFileSync(join(rawDir, 'release', 'wp-config.php'), wpConfig, { mode: 0o600 });
      for (const scheme of ['http', 'https']) {
        await run(['/usr/bin/php', join(repoRoot(__dirname), 'tools/wp-cli/wp'), 'search-replace', `${scheme}://${source.domains[0]}`, `${scheme}://${copy.domains[0]}`, `--path=${join(rawDir, 'release')}`, '--all-tables-with-prefix', '--skip-columns=guid', '--skip-plugins', '--skip-themes']);
      }
    });
    await run([...mariadb, '-e', 'DROP DATABASE bench_raw; DROP USER bench_raw@localhost;']);

    let backupSeconds = 0;
    let cloneSeconds = 0;
    const agent = await timed(async () => {
      const started = performance.now();
      const backup = await host.backup({ name: source.name, id: source.id, backup: 'bench-clone-source', store }, quiet);
      backupSeconds = (performance.now() - started) / 1000;
      cloneSeconds = await timed(() =>
        host.clone({ site: copy, backup: 'bench-clone-source', snapshots: backup.snapshots ?? { database: '', files: '', manifest: '' }, sourceDomains: source.domains, store, parts: [] }, quiet),
      );
    });
    console.log(`site: ${UPLOAD_MB} MiB of uploads in ${UPLOAD_MB} files, ${DB_MB}k rows (~${DB_MB} MB) in the database, every tenth row naming the site's URL`);
    console.log(`agent clone (backup of the source + CloneSite) ${agent.toFixed(2)} s   (backup ${backupSeconds.toFixed(2)} s, CloneSite ${cloneSeconds.toFixed(2)} s: provision, restore, search-replace, health check)`);
    console.log(`raw copy (cp -a, dump | import, wp search-replace by hand) ${raw.toFixed(2)} s   ratio ${(agent / raw).toFixed(2)}`);
  } finally {
    for (const site of [copy, source]) await host.remove(site.name, site.id, quiet).catch((error: unknown) => console.error(String(error)));
    await host.stopAll();
    node.cleanup();
    rmSync(work, { recursive: true, force: true });
    await harness.stop();
  }
}

runBenchmark(main);
