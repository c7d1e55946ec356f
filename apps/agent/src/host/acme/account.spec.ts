import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostSettings } from '../settings.js';
import { accountFileName, ensureAccount, recordAccount } from './account.js';

const DIRECTORY = 'https://acme.example.test/dir';

describe("the node's ACME account key", () => {
  let stateDir: string;
  let settings: HostSettings;
  const keyFile = () => join(stateDir, 'acme', 'accounts', `${accountFileName(DIRECTORY)}.key`);

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'acme-account-'));
    settings = { stateDir } as HostSettings;
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('is made once (even by orders at the same time), root-only, and reused', async () => {
    const [a, b] = await Promise.all([ensureAccount(settings, DIRECTORY), ensureAccount(settings, DIRECTORY)]);
    expect(a.key).toBe(b.key);
    expect(a.key).toContain('-----BEGIN PRIVATE KEY-----');
    expect(a.url).toBeUndefined();
    expect(statSync(keyFile()).mode & 0o7777).toBe(0o600);
    expect(statSync(join(stateDir, 'acme', 'accounts')).mode & 0o7777).toBe(0o700);
    expect((await ensureAccount(settings, DIRECTORY)).key).toBe(a.key);
  });

  it("remembers the account's URL for its own key only", async () => {
    const account = await ensureAccount(settings, DIRECTORY);
    await recordAccount(settings, DIRECTORY, account, 'https://acme.example.test/acct/1');
    expect(await ensureAccount(settings, DIRECTORY)).toEqual({ key: account.key, url: 'https://acme.example.test/acct/1' });
    // Another key in the file (a restore, a hand edit): the record is not its, the order registers again.
    writeFileSync(keyFile(), readFileSync(keyFile(), 'utf8').replace(/[A-Za-z0-9+/]{20}\n-----END/, 'AAAAAAAAAAAAAAAAAAAA\n-----END'));
    expect((await ensureAccount(settings, DIRECTORY)).url).toBeUndefined();
    expect((await ensureAccount(settings, 'https://other.example.test/dir')).key).not.toBe(account.key);
  });
});
