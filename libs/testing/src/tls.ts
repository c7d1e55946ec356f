import { createCertificateAuthority, issueCertificate, type PemPair } from '@pressluft/platform';

export type { PemPair };

export interface TestPki {
  readonly ca: PemPair;
  readonly server: PemPair;
  /** Issues a client certificate with the given common name, signed by the CA. */
  issueClient(commonName: string): Promise<PemPair>;
}

/** A throwaway CA with a 127.0.0.1/localhost server certificate, for TLS-enabled test services. */
export async function createTestPki(): Promise<TestPki> {
  const ca = await createCertificateAuthority('pressluft test CA', 1);
  return {
    ca,
    server: await issueCertificate(ca, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 }),
    issueClient: (commonName) => issueCertificate(ca, { commonName, usage: 'client', validityDays: 1 }),
  };
}
