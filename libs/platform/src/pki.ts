// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect polyfill.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600_000;

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  readonly commonName: string;
  readonly usage: 'server' | 'client';
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** URI subject alternative names (a node certificate names itself by one: its NATS user). */
  readonly uris?: readonly string[];
  /** Hex; newSerialNumber() when absent. */
  readonly serialNumber?: string;
  readonly validityDays: number;
}

function pem(der: ArrayBuffer, label: string): string {
  const body = Buffer.from(der).toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function der(text: string): ArrayBuffer {
  const body = text.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  const bytes = Buffer.from(body, 'base64');
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  return pem(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/**
 * A random positive 128-bit serial in lowercase hex, as verifyClientCertificate reports it: the
 * top bit clear (positive) and the next one set (no leading zero byte for DER to drop).
 */
export function newSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - 5 * 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

/** A self-signed ECDSA P-256 certificate authority (keys made locally, never leave the caller). */
export async function createCertificateAuthority(commonName: string, validityDays: number): Promise<PemPair> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerialNumber(),
    name: `CN=${commonName}`,
    ...validity(validityDays),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

/** A leaf certificate with a fresh key pair, signed by `ca`. */
export async function issueCertificate(ca: PemPair, options: IssueOptions): Promise<PemPair> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await signLeaf(ca, keys.publicKey, options);
  return { cert, key: await exportKey(keys.privateKey) };
}

/** Signs a leaf certificate for `publicKey`: subject, usage, names and validity come from `options` only. */
async function signLeaf(ca: PemPair, publicKey: webcrypto.CryptoKey | x509.PublicKey, options: IssueOptions): Promise<string> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey('pkcs8', der(ca.key), algorithm, false, ['sign']);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? newSerialNumber(),
    subject: subjectOf(options.commonName),
    issuer: caCert.subject,
    ...validity(options.validityDays),
    publicKey,
    signingKey: caKey,
    signingAlgorithm: algorithm,
    extensions,
  });
  return cert.toString('pem');
}

/**
 * The subject as a JSON name, so a common name with ',', '=' or '+' stays one CN value instead
 * of being parsed as more attributes.
 */
function subjectOf(commonName: string): x509.JsonName {
  return [{ CN: [commonName] }];
}

/** A certificate request that cannot be signed: malformed, badly signed, or with an unsupported key. */
export class CsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsrError';
  }
}

/** Larger than any CSR for a P-256 or P-384 key; bigger input is refused before parsing. */
const MAX_CSR_PEM_BYTES = 8192;

/**
 * A new ECDSA P-256 private key (PKCS#8 PEM) and a PKCS#10 request for it with the subject
 * CN=<commonName>. Made locally: the key never has to leave the caller.
 */
export async function createKeyAndCsr(commonName: string): Promise<{ key: string; csr: string }> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subjectOf(commonName), keys, signingAlgorithm: algorithm });
  return { key: await exportKey(keys.privateKey), csr: csr.toString('pem') };
}

/**
 * Signs a PKCS#10 request with `ca` after checking its self-signature (proof that the caller
 * holds the private key). Only the request's public key is used: its subject and any extensions
 * it asks for (names, key usages, CA flags) are ignored; the certificate says what `options` say.
 * Accepts EC keys on P-256 and P-384.
 */
export async function signCsr(ca: PemPair, csrPem: string, options: IssueOptions): Promise<string> {
  if (typeof csrPem !== 'string' || csrPem.length === 0) throw new CsrError('the certificate request is empty');
  if (csrPem.length > MAX_CSR_PEM_BYTES) throw new CsrError(`the certificate request is larger than ${MAX_CSR_PEM_BYTES} bytes`);
  if (!/^\s*-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+-----END (NEW )?CERTIFICATE REQUEST-----\s*$/.test(csrPem)) {
    throw new CsrError('the certificate request is not a PEM "CERTIFICATE REQUEST"');
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem.replace(/NEW CERTIFICATE REQUEST/g, 'CERTIFICATE REQUEST'));
  } catch {
    throw new CsrError('the certificate request cannot be parsed');
  }
  const keyAlgorithm = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
  if (keyAlgorithm.name !== 'ECDSA' || (keyAlgorithm.namedCurve !== 'P-256' && keyAlgorithm.namedCurve !== 'P-384')) {
    throw new CsrError('the certificate request must carry an EC key on P-256 or P-384');
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw new CsrError('the certificate request\'s signature does not verify');
  return signLeaf(ca, csr.publicKey, options);
}

export interface VerifiedCertificate {
  readonly commonName: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Checks that `cert` (PEM or DER) was issued by `caPem` (signature and issuer name), is within
 * its validity at `now` and allows client authentication; returns its common name. Throws
 * otherwise.
 */
export async function verifyClientCertificate(caPem: string, cert: string | Uint8Array, now: Date): Promise<VerifiedCertificate> {
  const caCert = new x509.X509Certificate(caPem);
  let leaf: x509.X509Certificate;
  try {
    leaf = new x509.X509Certificate(typeof cert === 'string' ? cert : new Uint8Array(cert));
  } catch {
    throw new Error('the client certificate cannot be parsed');
  }
  if (leaf.issuer !== caCert.subject) throw new Error('the client certificate was not issued by this CA');
  const signed = await leaf.verify({ publicKey: caCert.publicKey, signatureOnly: true }).catch(() => false);
  if (!signed) throw new Error('the client certificate\'s signature does not verify against this CA');
  if (now < leaf.notBefore || now > leaf.notAfter) throw new Error('the client certificate is not valid at this time');
  const usage = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  if (!usage?.usages.includes(x509.ExtendedKeyUsage.clientAuth)) throw new Error('the client certificate does not allow client authentication');
  const names = leaf.subjectName.getField('CN');
  if (names.length !== 1 || !names[0]) throw new Error('the client certificate must have exactly one common name');
  return { commonName: names[0], serialNumber: leaf.serialNumber, notBefore: leaf.notBefore, notAfter: leaf.notAfter };
}

/** The certificate's (first) subject common name, or undefined when it has none. */
export function certificateCommonName(certPem: string): string | undefined {
  return new x509.X509Certificate(certPem).subjectName.getField('CN')[0];
}

/** When the certificate starts and stops being valid. */
export function certificateValidity(certPem: string): { notBefore: Date; notAfter: Date } {
  const cert = new x509.X509Certificate(certPem);
  return { notBefore: cert.notBefore, notAfter: cert.notAfter };
}

/** Milliseconds until the certificate expires (negative when it has). */
export function certificateRemainingMs(certPem: string, now: Date): number {
  return new x509.X509Certificate(certPem).notAfter.getTime() - now.getTime();
}
