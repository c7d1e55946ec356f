import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { CertificateResult } from '@pressluft/proto';

/** A certificate (chain and key) the node will not serve: the message says why, for people. */
export class CertificateProblem extends Error {
  override readonly name = 'CertificateProblem';
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM chain, in order (leaf first); anything between them is ignored. */
export function splitChain(pem: string): string[] {
  return pem.match(PEM_CERTIFICATE) ?? [];
}

/** The DNS names of the leaf's subjectAltName (`DNS:a, DNS:b, IP Address:...`). */
export function dnsNames(certificate: X509Certificate): string[] {
  const names: string[] = [];
  for (const entry of (certificate.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4).toLowerCase());
  }
  return names;
}

/** Does the leaf name `domain` (exactly, or by a wildcard of one whole leftmost label)? */
export function covers(certificate: X509Certificate, domain: string): boolean {
  return certificate.checkHost(domain, { subject: 'never', wildcards: true, partialWildcards: false }) !== undefined;
}

/** "C=US, O=Let's Encrypt, CN=R11" from Node's one-attribute-per-line form. */
function distinguishedName(text: string): string {
  return text.split('\n').filter(Boolean).join(', ');
}

function parseKey(privateKeyPem: string): KeyObject {
  try {
    return createPrivateKey(privateKeyPem);
  } catch {
    throw new CertificateProblem('the private key is not a PEM private key (PKCS#8, PKCS#1 or SEC1, unencrypted)');
  }
}

function parseCertificates(chainPem: string): X509Certificate[] {
  const blocks = splitChain(chainPem);
  if (blocks.length === 0) throw new CertificateProblem('the certificate holds no PEM CERTIFICATE block');
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new CertificateProblem(`certificate ${index + 1} of the chain is not a valid X.509 certificate`);
    }
  });
}

/**
 * Checks a chain (PEM, leaf first) and its key before the node serves them: the key is the
 * leaf's, every certificate is signed by the next one, the leaf is valid now and names every one
 * of `domains`. Returns what the node reports about it (never the key). Pure: `now` is given.
 */
export function inspectCertificate(chainPem: string, privateKeyPem: string, domains: readonly string[], source: 'acme' | 'custom', now: Date): CertificateResult {
  const chain = parseCertificates(chainPem);
  const key = parseKey(privateKeyPem);
  const leaf = chain[0] as X509Certificate;
  if (!leaf.checkPrivateKey(key)) throw new CertificateProblem(`the private key does not belong to the certificate (${distinguishedName(leaf.subject)})`);
  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, parent] = [chain[i] as X509Certificate, chain[i + 1] as X509Certificate];
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new CertificateProblem(`certificate ${i + 1} of the chain (${distinguishedName(child.subject)}) is not signed by certificate ${i + 2} (${distinguishedName(parent.subject)})`);
    }
  }
  if (leaf.validToDate.getTime() <= now.getTime()) throw new CertificateProblem(`the certificate expired at ${leaf.validToDate.toISOString()}`);
  if (leaf.validFromDate.getTime() > now.getTime()) throw new CertificateProblem(`the certificate is not valid before ${leaf.validFromDate.toISOString()}`);
  const missing = domains.filter((domain) => !covers(leaf, domain));
  if (missing.length > 0) throw new CertificateProblem(`the certificate does not cover ${missing.join(', ')} (it names ${dnsNames(leaf).join(', ') || 'no DNS name'})`);
  return {
    source,
    domains: dnsNames(leaf),
    issuer: distinguishedName(leaf.issuer),
    serialNumber: leaf.serialNumber.toLowerCase(),
    fingerprintSha256: createHash('sha256').update(leaf.raw).digest('hex'),
    notBefore: leaf.validFromDate.toISOString(),
    notAfter: leaf.validToDate.toISOString(),
    ocspStapling: /^OCSP - URI:/m.test(leaf.infoAccess ?? ''),
  };
}

/** certificate.json's content: what the node serves for the site, never its key. */
export function renderMetadata(result: CertificateResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
