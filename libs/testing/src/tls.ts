// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect polyfill.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly ca: PemPair;
  readonly server: PemPair;
  /** Issues a client certificate with the given common name, signed by the CA. */
  issueClient(commonName: string): Promise<PemPair>;
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  const body = Buffer.from(der).toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

function validity(): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + 24 * 3600_000) };
}

/** A throwaway CA with a 127.0.0.1/localhost server certificate, for TLS-enabled test services. */
export async function createTestPki(): Promise<TestPki> {
  const caKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']));
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=pressluft test CA',
    ...validity(),
    keys: caKeys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  let serial = 1;
  const issue = async (commonName: string, usage: 'server' | 'client'): Promise<PemPair> => {
    serial += 1;
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']));
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    ];
    if (usage === 'server') {
      extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }]));
    }
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial.toString(16).padStart(2, '0'),
      subject: `CN=${commonName}`,
      issuer: caCert.subject,
      ...validity(),
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: algorithm,
      extensions,
    });
    return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
  };
  return {
    ca: { cert: caCert.toString('pem'), key: await exportKey(caKeys.privateKey) },
    server: await issue('localhost', 'server'),
    issueClient: (commonName) => issue(commonName, 'client'),
  };
}
