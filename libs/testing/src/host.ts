import { createServer, Socket } from 'node:net';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunAs } from './process.js';

/** Prefix of every directory the harness creates; the cleanup check looks for it. */
export const HARNESS_DIR_PREFIX = 'pressluft-harness-';

/**
 * The repository root above `from` (the first directory holding tools/runtime/register-paths.cjs):
 * right whether the code runs from source (tests) or compiled under dist/ (benchmarks).
 */
export function repoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'tools', 'runtime', 'register-paths.cjs')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root above ${from}`);
  }
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

/** A world-traversable temp dir (services run as their own users and must reach their files). */
export function makeTempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), HARNESS_DIR_PREFIX));
  chmodSync(dir, 0o755);
  return dir;
}

export function systemUser(name: string): RunAs {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) throw new Error(`system user ${name} does not exist (is its Debian package installed?)`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export function chownTo(path: string, user: RunAs): void {
  chownSync(path, user.uid, user.gid);
}

/** The newest PostgreSQL server binaries Debian installed (/usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base) ? readdirSync(base).filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => b - a) : [];
  if (majors[0] === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (install the postgresql package)');
  return join(base, String(majors[0]), 'bin');
}

/** The PHP-FPM binary Debian installed (php-fpm<major.minor>). */
export function phpFpmBinary(): string {
  const found = readdirSync('/usr/sbin').filter((f) => /^php-fpm\d+\.\d+$/.test(f)).sort().reverse()[0];
  if (!found) throw new Error('php-fpm not found in /usr/sbin (install the php-fpm package)');
  return join('/usr/sbin', found);
}
