import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SECRET_KEY_BYTES } from './secret-cipher.js';

/**
 * The key that encrypts resource secrets: read from `file`, or created there on first start (32
 * random bytes, 0600). Replicas starting at once on one directory agree: the new key is written
 * to a private temporary file and hard-linked into place, which fails if another got there first;
 * then everyone reads the one that won.
 */
export function loadOrCreateSecretsKey(file: string): Buffer {
  const existing = readKey(file);
  if (existing) return existing;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, randomBytes(SECRET_KEY_BYTES), { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600);
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
  const key = readKey(file);
  if (!key) throw new Error(`the secrets key file ${file} vanished while it was created`);
  return key;
}

function readKey(file: string): Buffer | undefined {
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (key.length !== SECRET_KEY_BYTES) throw new Error(`the secrets key file ${file} must hold exactly ${SECRET_KEY_BYTES} bytes (it has ${key.length})`);
  return key;
}
