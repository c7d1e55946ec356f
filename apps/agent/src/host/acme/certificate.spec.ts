import { createHash, X509Certificate } from 'node:crypto';
import { createCertificateAuthority, issueCertificate, type PemPair } from '@pressluft/platform';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateProblem, covers, inspectCertificate, renderMetadata, splitChain } from './certificate.js';

describe('certificate inspection', () => {
  let root: PemPair;
  let other: PemPair;
  let leaf: PemPair;
  let wildcard: PemPair;
  const now = new Date();

  beforeAll(async () => {
    root = await createCertificateAuthority('test root', 2);
    other = await createCertificateAuthority('another root', 2);
    leaf = await issueCertificate(root, { commonName: 'shop.example.test', usage: 'server', dnsNames: ['shop.example.test', 'www.shop.example.test'], validityDays: 1 });
    wildcard = await issueCertificate(root, { commonName: '*.example.test', usage: 'server', dnsNames: ['*.example.test'], validityDays: 1 });
  });

  it('reports what a valid chain is, never its key', () => {
    const result = inspectCertificate(`${leaf.cert}${root.cert}`, leaf.key, ['shop.example.test', 'www.shop.example.test'], 'custom', now);
    const x509 = new X509Certificate(leaf.cert);
    expect(result).toEqual({
      source: 'custom',
      domains: ['shop.example.test', 'www.shop.example.test'],
      issuer: 'CN=test root',
      serialNumber: x509.serialNumber.toLowerCase(),
      fingerprintSha256: createHash('sha256').update(x509.raw).digest('hex'),
      notBefore: x509.validFromDate.toISOString(),
      notAfter: x509.validToDate.toISOString(),
      ocspStapling: false,
    });
    expect(renderMetadata(result)).not.toContain('PRIVATE');
    expect(JSON.parse(renderMetadata(result))).toEqual(result);
  });

  it('splits a chain into its certificates, leaf first, ignoring text around them', () => {
    expect(splitChain(`subject=shop\n${leaf.cert}\nissuer=root\n${root.cert}`)).toHaveLength(2);
    expect(splitChain('no certificate here')).toEqual([]);
  });

  it.each([
    ['shop.example.test', true],
    ['SHOP.example.test', true],
    ['other.example.test', false],
    ['example.test', false],
  ])('the leaf covers %s: %s', (domain, expected) => {
    expect(covers(new X509Certificate(leaf.cert), domain)).toBe(expected);
  });

  it.each([
    ['a.example.test', true],
    ['example.test', false],
    ['a.b.example.test', false],
  ])('a wildcard covers %s: %s', (domain, expected) => {
    expect(covers(new X509Certificate(wildcard.cert), domain)).toBe(expected);
  });

  const cases: Array<[string, () => [string, string, string[], Date], RegExp]> = [
    ['no certificate', () => ['', leaf.key, ['shop.example.test'], now], /holds no PEM CERTIFICATE block/],
    ['garbage in a block', () => ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', leaf.key, ['shop.example.test'], now], /certificate 1 of the chain is not a valid X.509 certificate/],
    ['no key', () => [leaf.cert, 'not a key', ['shop.example.test'], now], /is not a PEM private key/],
    ["another certificate's key", () => [leaf.cert, wildcard.key, ['shop.example.test'], now], /does not belong to the certificate \(CN=shop.example.test\)/],
    ['a chain that does not link', () => [`${leaf.cert}${other.cert}`, leaf.key, ['shop.example.test'], now], /certificate 1 of the chain \(CN=shop.example.test\) is not signed by certificate 2 \(CN=another root\)/],
    ['an expired certificate', () => [leaf.cert, leaf.key, ['shop.example.test'], new Date(now.getTime() + 3 * 86_400_000)], /the certificate expired at /],
    ['a certificate not valid yet', () => [leaf.cert, leaf.key, ['shop.example.test'], new Date(now.getTime() - 86_400_000)], /is not valid before /],
    ['a domain it does not name', () => [leaf.cert, leaf.key, ['shop.example.test', 'blog.example.test'], now], /does not cover blog.example.test \(it names shop.example.test, www.shop.example.test\)/],
  ];
  it.each(cases)('refuses %s', (_name, input, message) => {
    const [chain, key, domains, at] = input();
    let thrown: unknown;
    try {
      inspectCertificate(chain, key, domains, 'custom', at);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CertificateProblem);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('PRIVATE KEY');
  });
});
