import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const SECRET_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value: the ciphertext with GCM's tag appended, and its nonce (never reused: random per seal). */
export interface Sealed {
  readonly ciphertext: Buffer;
  readonly nonce: Buffer;
}

/** Why AES-256-GCM: authenticated (a changed row fails to open), and in node:crypto. See ADR 0026. */
export class SecretCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== SECRET_KEY_BYTES) throw new Error(`the secrets key must be ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
  }

  /** `context` ("<kind>/<name>") is authenticated, not stored: a row copied to another object does not open. */
  seal(plaintext: string, context: string): Sealed {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { ciphertext, nonce };
  }

  /** Throws when the key, the context or the bytes are not the ones it was sealed with. */
  open(sealed: Sealed, context: string): string {
    if (sealed.nonce.length !== NONCE_BYTES || sealed.ciphertext.length < TAG_BYTES) throw new Error(`the secret of ${context} is malformed`);
    const body = sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES);
    const tag = sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`the secret of ${context} cannot be decrypted with this control plane's key (a different PRESSLUFT_SECRETS_KEY_FILE?)`);
    }
  }
}
