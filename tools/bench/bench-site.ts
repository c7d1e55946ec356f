import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SiteConfig } from '@pressluft/proto';
import { run } from '@pressluft/testing';

/** The size of the benchmarks' site: BENCH_UPLOAD_MB of uploads, BENCH_DB_MB (thousand rows of 1 KiB) of database. */
export const UPLOAD_MB = Number(process.env['BENCH_UPLOAD_MB'] ?? 200);
export const DB_MB = Number(process.env['BENCH_DB_MB'] ?? 50);

export function benchSiteConfig(name: string, environment: 'production' | 'staging', title: string): SiteConfig {
  return {
    name,
    id: randomBytes(4).toString('hex'),
    environment,
    domains: [`${name}.example.test`],
    php: { version: '8.2', memoryLimitMb: 256, maxChildren: 5, uploadMaxMb: 64 },
    wordpress: { version: '6.1', title, adminUser: 'admin', adminEmail: 'ops@example.test', locale: 'en_US', xmlrpc: false },
    resources: { cpuPercent: 100, memoryMib: 512 },
    keepReleases: 5,
  };
}

/**
 * Fills a provisioned site: UPLOAD_MB files of 1 MiB of random bytes in shared/uploads/bench (what
 * photos look like to a compressor), owned by the site user, and `table` with DB_MB thousand rows
 * of 1 KiB of hex text (posts that compress like text does); with `url`, every tenth row names it
 * (what a clone's search-replace rewrites).
 */
export async function fillBenchSite(siteRoot: string, mariadb: readonly string[], account: string, table: string, url?: string): Promise<void> {
  const { uid, gid } = statSync(join(siteRoot, 'tmp'));
  const uploads = join(siteRoot, 'shared', 'uploads', 'bench');
  mkdirSync(uploads);
  chownSync(uploads, uid, gid);
  for (let i = 0; i < UPLOAD_MB; i++) {
    const file = join(uploads, `photo-${i}.jpg`);
    writeFileSync(file, randomBytes(1024 * 1024));
    chownSync(file, uid, gid);
  }
  const hex = Array.from({ length: 8 }, (_, i) => `SHA2(seq + ${i * 1_000_000}, 512)`).join(', ');
  const body = url ? `IF(seq % 10 = 0, CONCAT('${url}/p/', seq, ' ', ${hex}), CONCAT(${hex}))` : `CONCAT(${hex})`;
  await run([...mariadb, account], { input: `CREATE TABLE ${table} (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT) ENGINE=InnoDB;\nINSERT INTO ${table} (body) SELECT ${body} FROM seq_1_to_${DB_MB * 1000};\n` });
}
