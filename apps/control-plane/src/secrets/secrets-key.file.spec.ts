import { mkdtempSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecretsKey } from './secrets-key.file.js';

describe('loadOrCreateSecretsKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates 32 random bytes readable by the owner only, in a new directory, and reads the same key again', () => {
    const file = join(dir, 'state', 'secrets.key');
    const key = loadOrCreateSecretsKey(file);
    expect(key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecretsKey(file).equals(key)).toBe(true);
    expect(readdirSync(join(dir, 'state'))).toEqual(['secrets.key']);
  });

  it('keeps an existing key and refuses one of the wrong size', () => {
    const file = join(dir, 'secrets.key');
    const mine = Buffer.alloc(32, 7);
    writeFileSync(file, mine, { mode: 0o600 });
    expect(loadOrCreateSecretsKey(file).equals(mine)).toBe(true);
    writeFileSync(file, 'short');
    expect(() => loadOrCreateSecretsKey(file)).toThrow(/exactly 32 bytes/);
  });
});
