import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leafFingerprint } from './certificate.reconciler.js';

describe('leafFingerprint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pressluft-leaf-'));
  const make = (name: string) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-days', '2', '-subj', `/CN=${name}.example.test`], { stdio: 'ignore' });
    const pem = readFileSync(join(dir, `${name}.pem`), 'utf8');
    const openssl = execFileSync('openssl', ['x509', '-in', join(dir, `${name}.pem`), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
    return { pem, sha256: openssl.trim().split('=')[1]?.replace(/:/g, '').toLowerCase() };
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is the sha256 of the chain's first certificate, as the node reports it (lowercase hex)", () => {
    const leaf = make('leaf');
    const ca = make('ca');
    expect(leafFingerprint(leaf.pem)).toBe(leaf.sha256);
    expect(leafFingerprint(leaf.pem)).toMatch(/^[0-9a-f]{64}$/);
    expect(leafFingerprint(`${leaf.pem}${ca.pem}`)).toBe(leaf.sha256);
  });

  it('is undefined for what does not parse', () => {
    expect(leafFingerprint('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toBeUndefined();
  });
});
