import 'reflect-metadata';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateValidity, createCertificateAuthority, createKeyAndCsr, signCsr, type PemPair } from '@pressluft/platform';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { certificateMatchesKey, identityPath, loadIdentity, renewalDue, saveIdentity, type NodeIdentity } from './identity.js';

const NATS = {
  url: 'tls://127.0.0.1:4222',
  stream: 'PRESSLUFT_COMMANDS',
  durable: 'agent-web-1',
  commandSubject: 'pressluft.cmd.web-1',
  eventSubjectPrefix: 'pressluft.evt.web-1',
  inboxPrefix: '_INBOX.node.web-1',
};

describe('the node identity on disk', () => {
  let ca: PemPair;
  let identity: Omit<NodeIdentity, 'stateDir'>;
  let withoutBusIdentity: string;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pressluft-identity-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    ca = await createCertificateAuthority('test CA', 1);
    const { key, csr } = await createKeyAndCsr('node:web-1');
    const certificatePem = await signCsr(ca, csr, { commonName: 'node:web-1', usage: 'client', validityDays: 90, uris: ['urn:pressluft:node:web-1:certificate:0a1b'] });
    const older = await createKeyAndCsr('node:web-1');
    withoutBusIdentity = await signCsr(ca, older.csr, { commonName: 'node:web-1', usage: 'client', validityDays: 90 });
    identity = { node: 'web-1', keyPem: key, certificatePem, caPem: ca.cert, expiresAt: certificateValidity(certificatePem).notAfter.toISOString(), nats: NATS };
  });

  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('saves atomically, owner-only, and loads the same identity back', () => {
    const stateDir = join(tempDir(), 'state');
    saveIdentity({ ...identity, stateDir });
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(identityPath(stateDir)).mode & 0o777).toBe(0o600);
    expect(readdirSync(stateDir)).toEqual(['identity.json']);
    expect(loadIdentity(stateDir)).toEqual({ ...identity, stateDir });
  });

  it('replaces an identity as a whole', () => {
    const stateDir = tempDir();
    saveIdentity({ ...identity, stateDir });
    saveIdentity({ ...identity, stateDir, expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(loadIdentity(stateDir)?.expiresAt).toBe('2030-01-01T00:00:00.000Z');
    expect(readdirSync(stateDir)).toEqual(['identity.json']);
  });

  it('is undefined before enrollment', () => {
    expect(loadIdentity(tempDir())).toBeUndefined();
  });

  it.each([
    ['not JSON', 'nope'],
    ['without the key', JSON.stringify({ ...NATS, node: 'web-1' })],
    ['without nats settings', JSON.stringify({ node: 'web-1', keyPem: 'k', certificatePem: 'c', caPem: 'a', expiresAt: 'e' })],
    ['with a bad node name', JSON.stringify({ node: '../x', keyPem: 'k', certificatePem: 'c', caPem: 'a', expiresAt: 'e', nats: NATS })],
  ])('refuses a damaged file (%s)', (_label, text) => {
    const stateDir = tempDir();
    writeFileSync(identityPath(stateDir), text);
    expect(() => loadIdentity(stateDir)).toThrow();
  });

  it('matches a certificate to its key only', async () => {
    const other = await createKeyAndCsr('node:web-1');
    expect(certificateMatchesKey(identity.certificatePem, identity.keyPem)).toBe(true);
    expect(certificateMatchesKey(identity.certificatePem, other.key)).toBe(false);
    expect(certificateMatchesKey('garbage', identity.keyPem)).toBe(false);
  });

  it('is due for renewal at once when the certificate carries no bus identity (issued before per-certificate NATS users)', () => {
    expect(renewalDue(withoutBusIdentity, certificateValidity(withoutBusIdentity).notBefore)).toBe(true);
  });

  it('is due for renewal once less than a third of the validity is left', () => {
    const { notBefore, notAfter } = certificateValidity(identity.certificatePem);
    const third = (notAfter.getTime() - notBefore.getTime()) / 3;
    expect(renewalDue(identity.certificatePem, notBefore)).toBe(false);
    expect(renewalDue(identity.certificatePem, new Date(notAfter.getTime() - third - 1000))).toBe(false);
    expect(renewalDue(identity.certificatePem, new Date(notAfter.getTime() - third + 1000))).toBe(true);
    expect(renewalDue(identity.certificatePem, new Date(notAfter.getTime() + 1000))).toBe(true);
  });
});
