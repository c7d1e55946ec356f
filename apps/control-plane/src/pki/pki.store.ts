import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateRemainingMs, createCertificateAuthority, issueCertificate, type PemPair } from '@pressluft/platform';

const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

export interface ServingPki {
  readonly ca: PemPair;
  readonly serving: PemPair;
}

function read(dir: string, name: string): PemPair | undefined {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** Writes atomically (temp file + rename); private keys are readable by the owner only. */
function write(dir: string, name: string, pair: PemPair): void {
  for (const [file, content, mode] of [
    [`${name}-key.pem`, pair.key, 0o600],
    [`${name}.pem`, pair.cert, 0o644],
  ] as const) {
    const path = join(dir, file);
    writeFileSync(`${path}.tmp`, content, { mode });
    chmodSync(`${path}.tmp`, mode);
    renameSync(`${path}.tmp`, path);
  }
}

/**
 * The control plane's own CA (created on first start; it later signs agent certificates too)
 * and the API's serving certificate for 127.0.0.1/localhost, re-issued 30 days before expiry.
 */
export async function loadOrCreateServingPki(dir: string, now: Date): Promise<ServingPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let ca = read(dir, 'ca');
  if (!ca) {
    ca = await createCertificateAuthority('Pressluft control plane CA', 3650);
    write(dir, 'ca', ca);
  }
  let serving = read(dir, 'serving');
  if (!serving || certificateRemainingMs(serving.cert, now) < RENEW_BEFORE_MS) {
    serving = await issueCertificate(ca, {
      commonName: 'pressluft-api',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      validityDays: 365,
    });
    write(dir, 'serving', serving);
  }
  return { ca, serving };
}
