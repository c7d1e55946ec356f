import 'reflect-metadata';
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificateCommonName,
  certificateValidity,
  createCertificateAuthority,
  createKeyAndCsr,
  CsrError,
  issueCertificate,
  newSerialNumber,
  signCsr,
  verifyClientCertificate,
  type PemPair,
} from './pki.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const client = (commonName: string) => ({ commonName, usage: 'client' as const, validityDays: 90 });

function pem(der: ArrayBuffer | Uint8Array, label: string): string {
  const body = Buffer.from(der as Uint8Array).toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

describe('certificate requests and client certificates', () => {
  let ca: PemPair;
  let otherCa: PemPair;

  beforeAll(async () => {
    ca = await createCertificateAuthority('test CA', 1);
    otherCa = await createCertificateAuthority('other CA', 1);
  });

  it('signs a request made with createKeyAndCsr: CN as given, clientAuth, 90 days, for the requester key', async () => {
    const { key, csr } = await createKeyAndCsr('node:alpha');
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    const cert = await signCsr(ca, csr, client('node:alpha'));
    const parsed = new NodeX509(cert);
    expect(parsed.subject).toBe('CN=node:alpha');
    expect(parsed.checkIssued(new NodeX509(ca.cert))).toBe(true);
    expect(parsed.verify(new NodeX509(ca.cert).publicKey)).toBe(true);
    expect(parsed.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(key)))).toBe(true);
    expect(parsed.ca).toBe(false);
    const { notBefore, notAfter } = certificateValidity(cert);
    expect(Math.round((notAfter.getTime() - notBefore.getTime()) / 86_400_000)).toBe(90);
    expect(certificateCommonName(cert)).toBe('node:alpha');
    const verified = await verifyClientCertificate(ca.cert, cert, new Date());
    expect(verified).toMatchObject({ commonName: 'node:alpha', serialNumber: parsed.serialNumber.toLowerCase() });
  });

  it('names the certificate by the serial and URIs it is given; verification reports that serial exactly', async () => {
    const { csr } = await createKeyAndCsr('node:alpha');
    for (let i = 0; i < 20; i++) {
      const serialNumber = newSerialNumber();
      expect(serialNumber).toMatch(/^[4-7][0-9a-f]{31}$/);
      const uri = `urn:pressluft:node:alpha:certificate:${serialNumber}`;
      const cert = await signCsr(ca, csr, { ...client('node:alpha'), serialNumber, uris: [uri] });
      expect(new NodeX509(cert).subjectAltName).toBe(`URI:${uri}`);
      expect((await verifyClientCertificate(ca.cert, cert, new Date())).serialNumber).toBe(serialNumber);
    }
  });

  it('ignores the subject and every extension the request asks for (CA flag, names, usages)', async () => {
    const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
    const request = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=pressluft-control-plane, O=evil',
      keys,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(true, 5, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'nats.example.test' },
          { type: 'email', value: 'root@example.test' },
        ]),
      ],
    });
    const cert = new x509.X509Certificate(await signCsr(ca, request.toString('pem'), client('node:beta')));
    expect(cert.subject).toBe('CN=node:beta');
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)).toBeNull();
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  });

  it('keeps a common name with separators as one CN value', async () => {
    const { csr } = await createKeyAndCsr('x');
    const cert = await signCsr(ca, csr, client('node:a, O=admins'));
    expect(new x509.X509Certificate(cert).subjectName.getField('CN')).toEqual(['node:a, O=admins']);
    expect(new x509.X509Certificate(cert).subjectName.getField('O')).toEqual([]);
  });

  it('refuses a request whose signature does not verify (the signed content changed)', async () => {
    const { csr } = await createKeyAndCsr('node:gamma');
    const der = Buffer.from(new x509.Pkcs10CertificateRequest(csr).rawData);
    const at = der.indexOf('node:gamma');
    expect(at).toBeGreaterThan(0);
    der.write('node:gammb', at);
    await expect(signCsr(ca, pem(der, 'CERTIFICATE REQUEST'), client('node:gamma'))).rejects.toThrow(/signature does not verify/);
  });

  it.each([
    ['empty', ''],
    ['not PEM', 'hello'],
    ['a certificate instead of a request', 'CERT'],
    ['garbage inside the PEM armour', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'],
    ['too large', `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(9000)}\n-----END CERTIFICATE REQUEST-----\n`],
  ])('refuses %s', async (_label, input) => {
    const text = input === 'CERT' ? ca.cert : input;
    await expect(signCsr(ca, text, client('node:delta'))).rejects.toBeInstanceOf(CsrError);
  });

  it('refuses a request for an RSA key', async () => {
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
    const keys = await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify']);
    const request = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=node:rsa', keys, signingAlgorithm: rsa });
    await expect(signCsr(ca, request.toString('pem'), client('node:rsa'))).rejects.toThrow(/EC key/);
  });

  describe('verifyClientCertificate', () => {
    it('accepts DER as well as PEM', async () => {
      const { csr } = await createKeyAndCsr('node:der');
      const cert = await signCsr(ca, csr, client('node:der'));
      const der = new Uint8Array(new x509.X509Certificate(cert).rawData);
      await expect(verifyClientCertificate(ca.cert, der, new Date())).resolves.toMatchObject({ commonName: 'node:der' });
    });

    it('refuses a certificate from another CA', async () => {
      const { csr } = await createKeyAndCsr('node:x');
      const foreign = await signCsr(otherCa, csr, client('node:x'));
      await expect(verifyClientCertificate(ca.cert, foreign, new Date())).rejects.toThrow(/not issued by this CA|does not verify/);
    });

    it('refuses a certificate from another CA with the same name', async () => {
      const twin = await createCertificateAuthority('test CA', 1);
      const { csr } = await createKeyAndCsr('node:x');
      const foreign = await signCsr(twin, csr, client('node:x'));
      await expect(verifyClientCertificate(ca.cert, foreign, new Date())).rejects.toThrow(/does not verify/);
    });

    it('refuses an expired certificate and one not valid yet', async () => {
      const { csr } = await createKeyAndCsr('node:old');
      const cert = await signCsr(ca, csr, client('node:old'));
      await expect(verifyClientCertificate(ca.cert, cert, new Date(Date.now() + 91 * 86_400_000))).rejects.toThrow(/not valid at this time/);
      await expect(verifyClientCertificate(ca.cert, cert, new Date(Date.now() - 86_400_000))).rejects.toThrow(/not valid at this time/);
    });

    it('refuses a server certificate (no clientAuth)', async () => {
      const server = await issueCertificate(ca, { commonName: 'node:srv', usage: 'server', dnsNames: ['localhost'], validityDays: 1 });
      await expect(verifyClientCertificate(ca.cert, server.cert, new Date())).rejects.toThrow(/client authentication/);
    });

    it('refuses garbage', async () => {
      await expect(verifyClientCertificate(ca.cert, new Uint8Array([1, 2, 3]), new Date())).rejects.toThrow(/cannot be parsed/);
    });
  });
});
