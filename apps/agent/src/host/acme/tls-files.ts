import { basename, dirname } from 'node:path';
import type { SitePaths } from '../naming.js';
import { Dir, isErrno, type FileOptions } from '../safe-fs.js';
import type { HostSettings } from '../settings.js';

/** What nginx serves for a site: the key, the chain (leaf first) and what it is (certificate.json). */
export interface CertificateFiles {
  readonly privateKeyPem: string;
  readonly chainPem: string;
  readonly metadata: string;
}

const NEXT = '.next-';
const PREVIOUS = '.previous-';

function layout(paths: SitePaths): Array<{ name: string; part: keyof CertificateFiles; options: FileOptions }> {
  return [
    { name: basename(paths.tlsPrivateKey), part: 'privateKeyPem', options: { mode: 0o600 } },
    { name: basename(paths.tlsCertificate), part: 'chainPem', options: { mode: 0o644 } },
    { name: basename(paths.tlsMetadata), part: 'metadata', options: { mode: 0o644 } },
  ];
}

/** fn with <stateDir>/tls/site_<id> (root's, 0700 below <stateDir>/tls 0700), walked from the state dir without following. */
async function withTlsDir<T>(settings: HostSettings, paths: SitePaths, fn: (dir: Dir) => Promise<T>): Promise<T> {
  return Dir.with(settings.stateDir, [], async (state) => {
    const tls = await state.ensureDir(basename(dirname(paths.tlsDir)), { mode: 0o700 });
    try {
      const site = await tls.ensureDir(basename(paths.tlsDir), { mode: 0o700 });
      try {
        return await fn(site);
      } finally {
        await site.close();
      }
    } finally {
      await tls.close();
    }
  });
}

/** What an interrupted install left (.next-*, .previous-*): removed before the next one. */
async function removeLeftovers(dir: Dir): Promise<void> {
  for (const entry of await dir.entries()) if (entry.name.startsWith(NEXT) || entry.name.startsWith(PREVIOUS)) await dir.unlink(entry.name);
}

/** An installed set that may still be taken back: `undo` puts the previous set (or none) back, `commit` forgets it. */
export interface PendingInstall {
  undo(): Promise<void>;
  commit(): Promise<void>;
}

/**
 * Installs a new set beside the old one: every new file is written completely first (a failure
 * there leaves the old set as it was), the old files are kept as hard links, then each new file
 * is renamed over its old one. The caller commits once nginx serves the new set, or undoes.
 */
export async function installCertificateFiles(settings: HostSettings, paths: SitePaths, files: CertificateFiles): Promise<PendingInstall> {
  const parts = layout(paths);
  const had = await withTlsDir(settings, paths, async (dir) => {
    await removeLeftovers(dir);
    try {
      for (const { name, part, options } of parts) await dir.writeFileAtomic(`${NEXT}${name}`, files[part], options);
    } catch (error) {
      await removeLeftovers(dir);
      throw error;
    }
    const had: string[] = [];
    for (const { name } of parts) {
      const st = await dir.lstat(name);
      if (st?.isFile()) {
        await dir.link(name, dir.at(`${PREVIOUS}${name}`));
        had.push(name);
      }
    }
    for (const { name } of parts) await dir.rename(`${NEXT}${name}`, dir, name);
    return had;
  });
  return {
    undo: () =>
      withTlsDir(settings, paths, async (dir) => {
        for (const { name } of parts) {
          if (had.includes(name)) await dir.rename(`${PREVIOUS}${name}`, dir, name);
          else await dir.unlink(name);
        }
      }),
    commit: () => withTlsDir(settings, paths, removeLeftovers),
  };
}

/** Removes the site's certificate files (nothing there is fine); true when there was a certificate. */
export async function removeCertificateFiles(settings: HostSettings, paths: SitePaths): Promise<boolean> {
  try {
    return await Dir.with(settings.stateDir, [basename(dirname(paths.tlsDir)), basename(paths.tlsDir)], async (dir) => {
      const had = (await dir.lstat(basename(paths.tlsCertificate))) !== undefined;
      await removeLeftovers(dir);
      for (const { name } of layout(paths)) await dir.unlink(name);
      return had;
    });
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}
