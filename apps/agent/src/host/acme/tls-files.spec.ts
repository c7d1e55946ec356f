import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sitePaths, type SitePaths } from '../naming.js';
import type { HostSettings } from '../settings.js';
import { installCertificateFiles, removeCertificateFiles, type CertificateFiles } from './tls-files.js';

const set = (n: number): CertificateFiles => ({ privateKeyPem: `key ${n}\n`, chainPem: `chain ${n}\n`, metadata: `{"n":${n}}\n` });

describe("a site's certificate files", () => {
  let stateDir: string;
  let settings: HostSettings;
  let paths: SitePaths;
  const onDisk = () => ({ privateKeyPem: readFileSync(paths.tlsPrivateKey, 'utf8'), chainPem: readFileSync(paths.tlsCertificate, 'utf8'), metadata: readFileSync(paths.tlsMetadata, 'utf8') });

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'tls-files-'));
    settings = { stateDir, sitesRoot: join(stateDir, 'sites'), nginx: { sitesDir: join(stateDir, 'nginx') } } as HostSettings;
    paths = sitePaths(settings, 'shop', 'ax9z0k1m');
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('installs a set root-only (key 0600) and, once committed, leaves nothing else', async () => {
    await (await installCertificateFiles(settings, paths, set(1))).commit();
    expect(onDisk()).toEqual(set(1));
    expect(readdirSync(paths.tlsDir).sort()).toEqual(['certificate.json', 'fullchain.pem', 'privkey.pem']);
    expect([paths.tlsDir, paths.tlsPrivateKey, paths.tlsCertificate, paths.tlsMetadata].map((p) => statSync(p).mode & 0o7777)).toEqual([0o700, 0o600, 0o644, 0o644]);
  });

  it('puts the previous set back when the new one is undone (none: nothing)', async () => {
    const fresh = await installCertificateFiles(settings, paths, set(1));
    await fresh.undo();
    expect([paths.tlsPrivateKey, paths.tlsCertificate, paths.tlsMetadata].filter((p) => existsSync(p))).toEqual([]);
    await (await installCertificateFiles(settings, paths, set(1))).commit();
    const next = await installCertificateFiles(settings, paths, set(2));
    expect(onDisk()).toEqual(set(2));
    await next.undo();
    expect(onDisk()).toEqual(set(1));
    await (await installCertificateFiles(settings, paths, set(3))).commit();
    expect(onDisk()).toEqual(set(3));
    expect(readdirSync(paths.tlsDir).sort()).toEqual(['certificate.json', 'fullchain.pem', 'privkey.pem']);
  });

  it('removes the files, idempotently', async () => {
    expect(await removeCertificateFiles(settings, paths)).toBe(false);
    await (await installCertificateFiles(settings, paths, set(1))).commit();
    expect(await removeCertificateFiles(settings, paths)).toBe(true);
    expect(readdirSync(paths.tlsDir)).toEqual([]);
    expect(await removeCertificateFiles(settings, paths)).toBe(false);
  });
});
