import { mkdtempSync, rmSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HARNESS_DIR_PREFIX } from './host.js';
import { PebbleService } from './pebble.js';
import { pidAlive } from './process.js';

describe('PebbleService', () => {
  it('runs a real ACME directory and its DNS server on loopback, and stops both', async () => {
    const root = mkdtempSync(join(tmpdir(), `${HARNESS_DIR_PREFIX}pebble-`));
    const pebble = await PebbleService.start(root, { httpPort: 5002 });
    try {
      const root1 = new X509Certificate(await pebble.rootCertificate());
      expect(root1.ca).toBe(true);
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      const [host, port] = pebble.dnsServer.split(':');
      resolver.setServers([`${host ?? ''}:${port ?? ''}`]);
      // Every name answers the default address; one told otherwise answers what it was told.
      expect(await resolver.resolve4('any.example.test')).toEqual(['127.0.0.1']);
      await pebble.setAddresses('elsewhere.example.test', ['192.0.2.7']);
      expect(await resolver.resolve4('elsewhere.example.test')).toEqual(['192.0.2.7']);
      const directory = await fetch(pebble.directoryUrl).catch((error: unknown) => error);
      // Pebble's listener certificate is the harness's own: untrusted by default (clients pass directoryCa).
      expect(directory).toBeInstanceOf(Error);
    } finally {
      const pids = pebble.pids;
      await pebble.stop();
      rmSync(root, { recursive: true, force: true });
      for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    }
  }, 60_000);
});
