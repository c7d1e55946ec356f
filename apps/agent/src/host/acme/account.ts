import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { SerialQueue } from '@pressluft/agent-runtime';
import * as acme from 'acme-client';
import { Dir } from '../safe-fs.js';
import type { HostSettings } from '../settings.js';

/** The node's account with one ACME directory: its key (made here, never leaves the node) and URL once registered. */
export interface AcmeAccount {
  readonly key: string;
  readonly url: string | undefined;
}

/** Two orders of one node for one directory at once make one key, not two (by the key file's path). */
const creating = new SerialQueue();

function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** <hash of the directory URL>: one account per directory, a file name whatever the URL holds. */
export function accountFileName(directoryUrl: string): string {
  return createHash('sha256').update(directoryUrl).digest('hex').slice(0, 32);
}

async function withAccountDir<T>(settings: HostSettings, fn: (dir: Dir) => Promise<T>): Promise<T> {
  return Dir.with(settings.stateDir, [], async (state) => {
    const acmeDir = await state.ensureDir('acme', { mode: 0o711 });
    try {
      const accounts = await acmeDir.ensureDir('accounts', { mode: 0o700 });
      try {
        return await fn(accounts);
      } finally {
        await accounts.close();
      }
    } finally {
      await acmeDir.close();
    }
  });
}

/**
 * The account key for `directoryUrl` in <stateDir>/acme/accounts (root's, 0700): <hash>.key (an
 * ECDSA P-256 key, 0600) made once and reused, <hash>.json ({directoryUrl, url, key digest}) once
 * registered; a record of another key is ignored (the order registers again).
 */
export async function ensureAccount(settings: HostSettings, directoryUrl: string): Promise<AcmeAccount> {
  const name = accountFileName(directoryUrl);
  return creating.run(join(settings.stateDir, name), () => withAccountDir(settings, async (dir) => {
    let key = (await dir.readFile(`${name}.key`))?.content;
    if (!key) {
      key = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
      await dir.writeFileAtomic(`${name}.key`, key, { mode: 0o600 });
      await dir.unlink(`${name}.json`);
      return { key, url: undefined };
    }
    const record = (await dir.readFile(`${name}.json`))?.content;
    const parsed = record ? (JSON.parse(record) as { directoryUrl?: unknown; url?: unknown; key?: unknown }) : undefined;
    const url = parsed?.directoryUrl === directoryUrl && parsed.key === keyDigest(key) && typeof parsed.url === 'string' ? parsed.url : undefined;
    return { key, url };
  }));
}

/** Records the account's URL beside its key (the next order skips newAccount). */
export async function recordAccount(settings: HostSettings, directoryUrl: string, account: AcmeAccount, url: string): Promise<void> {
  const name = accountFileName(directoryUrl);
  const record = { directoryUrl, url, key: keyDigest(account.key) };
  await withAccountDir(settings, (dir) => dir.writeFileAtomic(`${name}.json`, `${JSON.stringify(record)}\n`, { mode: 0o600 }));
}
