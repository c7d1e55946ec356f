import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateRemainingMs, createCertificateAuthority, issueCertificate, type IssueOptions, type PemPair } from '@pressluft/platform';

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
export function writePemPair(dir: string, name: string, pair: PemPair): void {
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

/** The control plane's own CA, created on first start; it signs serving, NATS and agent certificates. */
export async function loadOrCreateCa(dir: string): Promise<PemPair> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let ca = read(dir, 'ca');
  if (!ca) {
    ca = await createCertificateAuthority('Pressluft control plane CA', 3650);
    writePemPair(dir, 'ca', ca);
  }
  return ca;
}

/** `<dir>/<name>.pem` and `<name>-key.pem`, issued by `ca` when missing or within 30 days of expiry. */
export async function loadOrIssue(dir: string, name: string, ca: PemPair, options: IssueOptions, now: Date): Promise<PemPair> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let pair = read(dir, name);
  if (!pair || certificateRemainingMs(pair.cert, now) < RENEW_BEFORE_MS) {
    pair = await issueCertificate(ca, options);
    writePemPair(dir, name, pair);
  }
  return pair;
}

/**
 * The control plane's own CA and the serving certificate for 127.0.0.1/localhost (the API's TLS
 * listener and the enrollment gRPC server), re-issued 30 days before expiry.
 */
export async function loadOrCreateServingPki(dir: string, now: Date): Promise<ServingPki> {
  const ca = await loadOrCreateCa(dir);
  const serving = await loadOrIssue(
    dir,
    'serving',
    ca,
    { commonName: 'pressluft-api', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 365 },
    now,
  );
  return { ca, serving };
}

/** CN of the control plane's own NATS client certificate; its NATS user is "CN=pressluft-control-plane". */
export const CONTROL_PLANE_NATS_CN = 'pressluft-control-plane';

/** The control plane's NATS client certificate (mutual TLS, full permissions), from its own CA. */
export async function loadOrCreateNatsClientPki(dir: string, now: Date): Promise<{ ca: PemPair; client: PemPair }> {
  const ca = await loadOrCreateCa(dir);
  const client = await loadOrIssue(dir, 'nats-client', ca, { commonName: CONTROL_PLANE_NATS_CN, usage: 'client', validityDays: 365 }, now);
  return { ca, client };
}
