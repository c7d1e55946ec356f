import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execOk } from './exec.js';
import type { SitePaths } from './naming.js';
import { readIfExists, writeFileAtomic } from './safe-fs.js';

/** The site's deploy key (ed25519, made on the node, root's 0600 in the root-only state dir); its public half beside it. */
export function deployKeyPath(paths: SitePaths): string {
  return join(paths.state, 'deploy-key');
}

/** The deploy key's public half (one OpenSSH line), '' before the site has one. */
export async function deployPublicKey(paths: SitePaths): Promise<string> {
  return ((await readIfExists(`${deployKeyPath(paths)}.pub`)) ?? '').trim();
}

/**
 * Makes the site's deploy key once (idempotent): ssh-keygen writes it into a fresh root-only
 * directory in the state dir, from where both halves are renamed into place (a key left without
 * its public half by a crash gets it back from `ssh-keygen -y`). The
 * private half is never read by the agent, never in argv, logs or events; the site user cannot
 * reach the state dir. Returns the public half and whether the key is new.
 */
export async function ensureDeployKey(paths: SitePaths): Promise<{ publicKey: string; created: boolean }> {
  const key = deployKeyPath(paths);
  const existing = await lstat(key).catch(() => undefined);
  if (existing?.isFile() && existing.uid === 0) {
    const publicKey = await deployPublicKey(paths);
    if (publicKey !== '') return { publicKey, created: false };
    const derived = (await execOk(['/usr/bin/ssh-keygen', '-y', '-f', key], { timeoutMs: 30_000 })).trim();
    await writeFileAtomic(`${key}.pub`, `${derived} pressluft-site-${paths.name}\n`, { mode: 0o600 });
    return { publicKey: await deployPublicKey(paths), created: false };
  }
  const work = join(paths.state, `.deploy-key-${randomBytes(6).toString('hex')}`);
  await mkdir(work, { mode: 0o700 });
  try {
    await execOk(['/usr/bin/ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `pressluft-site-${paths.name}`, '-f', join(work, 'key')], { timeoutMs: 30_000 });
    // Whatever was in the key's place (not a root-owned file) is replaced by the rename.
    await rename(join(work, 'key.pub'), `${key}.pub`);
    await rename(join(work, 'key'), key);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { publicKey: await deployPublicKey(paths), created: true };
}
