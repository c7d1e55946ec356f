import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../test/host-fixtures.js';
import { sitePaths } from './naming.js';
import { installedCertificate } from './site-server-block.js';

describe('installedCertificate', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'installed-cert-'));
  const paths = sitePaths({ ...SETTINGS, stateDir }, 'shop', 'ax9z0k1m');
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('is there only when the chain, the key and certificate.json all are (regular files), with its OCSP flag', async () => {
    expect(await installedCertificate(paths)).toBeUndefined();
    mkdirSync(paths.tlsDir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.tlsMetadata, JSON.stringify({ source: 'acme', ocspStapling: true }));
    expect(await installedCertificate(paths)).toBeUndefined();
    writeFileSync(paths.tlsCertificate, 'chain');
    symlinkSync('/etc/passwd', paths.tlsPrivateKey);
    expect(await installedCertificate(paths)).toBeUndefined();
    rmSync(paths.tlsPrivateKey);
    writeFileSync(paths.tlsPrivateKey, 'key', { mode: 0o600 });
    expect(await installedCertificate(paths)).toEqual({ certificate: paths.tlsCertificate, privateKey: paths.tlsPrivateKey, ocspStapling: true });
    writeFileSync(paths.tlsMetadata, JSON.stringify({ source: 'custom' }));
    expect((await installedCertificate(paths))?.ocspStapling).toBe(false);
  });
});
