/**
 * tools/bench/clone: one real site with ~200 MB of uploads (BENCH_UPLOAD_MB) and a ~50 MB
 * database (BENCH_DB_MB) cloned to a new site on the same node the way the control plane does it
 * (a backup of the source into a restic repository, then CloneSite: provision the copy and restore
 * the backup into it, URLs rewritten), beside what a person would type for the same copy in the
 * same run: `cp -a` of the release and the uploads, `mariadb-dump | mariadb` into a new database,
 * and `wp search-replace` by hand. A benchmark: it prints numbers and asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import type { SiteConfig } from '@pressluft/proto';
import { describeShared, Harness, repoRoot, run } from '@pressluft/testing';
import { SiteHost, type StepReporter } from '../../apps/agent/src/host/site-host.js';
import { hostHarness } from '../../apps/agent/test/host-harness.js';
import { runBenchmark } from './bench-plane.js';
import { pipe, timed } from './shell.js';

const UPLOAD_MB = Number(process.env['BENCH_UPLOAD_MB'] ?? 200);
const DB_MB = Number(process.env['BENCH_DB_MB'] ?? 50);
const quiet: StepReporter = { progress: () => Promise.resolve(), log: () => Promise.resolve() };

function config(name: string, environment: string): SiteConfig {
  return {
    name,
    id: randomBytes(4).toString('hex'),
    environment,
    domains: [`${name}.example.test`],
    php: { version: '8.2', memoryLimitMb: 256, maxChildren: 5, uploadMaxMb: 64 },
    wordpress: { version: '6.1', title: 'Bench clone', adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
    resources: { cpuPercent: 100, memoryMib: 512 },
    keepReleases: 5,
  };
}

async function main(): Promise<void> {
  const harness = await Harness.start({ postgres: true, nats: true, mariadb: true, nginx: true, phpFpm: true, redis: true });
  const services = describeShared(harness);
  const node = hostHarness(services, `pressluft-bench-${randomBytes(3).toString('hex')}`);
  const host = new SiteHost(node.settings, createLogger({ name: 'bench-clone', level: 'silent' }));
  const work = mkdtempSync(join(tmpdir(), 'pressluft-bench-clone-'));
  const source = config('clbench', 'production');
  const copy = config('clbench-copy', 'staging');
  const account = `site_${source.id}`;
  const mariadb = ['/usr/bin/mariadb', `--defaults-file=${services.mariadb.defaultsFile}`];
  try {
    await host.provision(source, quiet);
    const root = join(node.settings.sitesRoot, source.name);
    const { uid, gid } = statSync(join(root, 'tmp'));
    const uploads = join(root, 'shared', 'uploads', 'bench');
    mkdirSync(uploads);
    chownSync(uploads, uid, gid);
    for (let i = 0; i < UPLOAD_MB; i++) {
      const file = join(uploads, `photo-${i}.jpg`);
      writeFileSync(file, randomBytes(1024 * 1024));
      chownSync(file, uid, gid);
    }
    // DB_MB thousand rows of 1 KiB of text, every tenth naming the site's URL (what search-replace rewrites).
    const hex = Array.from({ length: 8 }, (_, i) => `SHA2(seq + ${i * 1_000_000}, 512)`).join(', ');
    const url = `http://${source.domains[0]}`;
    await run([...mariadb, account], {
      input: `CREATE TABLE wp_bench_posts (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT) ENGINE=InnoDB;\nINSERT INTO wp_bench_posts (body) SELECT IF(seq % 10 = 0, CONCAT('${url}/p/', seq, ' ', ${hex}), CONCAT(${hex})) FROM seq_1_to_${DB_MB * 1000};\n`,
    });

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
