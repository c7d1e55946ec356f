import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretCipher } from './secret-cipher.js';

const cipher = new SecretCipher(randomBytes(32));

describe('SecretCipher', () => {
  it('opens what it sealed, and the ciphertext does not hold the plaintext', () => {
    const sealed = cipher.seal('{"password":"correct horse battery"}', 'BackupStore/default');
    expect(sealed.nonce).toHaveLength(12);
    expect(sealed.ciphertext.toString('latin1')).not.toContain('correct horse');
    expect(cipher.open(sealed, 'BackupStore/default')).toBe('{"password":"correct horse battery"}');
  });

  it('uses a new nonce for every seal of the same value', () => {
    const a = cipher.seal('same', 'BackupStore/a');
    const b = cipher.seal('same', 'BackupStore/a');
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it('refuses a secret moved to another object (the name is authenticated)', () => {
    const sealed = cipher.seal('secret', 'BackupStore/a');
    expect(() => cipher.open(sealed, 'BackupStore/b')).toThrow(/cannot be decrypted/);
  });

  it('refuses a changed byte and another key', () => {
    const sealed = cipher.seal('secret', 'BackupStore/a');
    const tampered = Buffer.from(sealed.ciphertext);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(() => cipher.open({ ...sealed, ciphertext: tampered }, 'BackupStore/a')).toThrow(/cannot be decrypted/);
    expect(() => new SecretCipher(randomBytes(32)).open(sealed, 'BackupStore/a')).toThrow(/cannot be decrypted/);
  });

  it('takes only a 32-byte key', () => {
    expect(() => new SecretCipher(randomBytes(16))).toThrow(/must be 32 bytes/);
  });
});
