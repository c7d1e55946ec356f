import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import { portOpen } from './host.js';
import { httpGet } from './http.js';
import { pgQuery } from './postgres.js';
import { pidAlive, run } from './process.js';

describe('Harness', () => {
  it('runs real PostgreSQL, NATS with mutual TLS, MariaDB, nginx, PHP-FPM and Redis, and leaves nothing behind', async () => {
    const harness = await Harness.start({ postgres: true, nats: { tls: 'mutual' }, mariadb: true, nginx: true, phpFpm: true, redis: true });
    const { postgres, nats, mariadb, nginx, phpFpm, redis } = harness;
    if (!postgres || !nats || !mariadb || !nginx || !phpFpm || !redis || !nats.pki) throw new Error('services missing');
    const pids: number[] = [];
    const ports = [postgres.port, nats.port, mariadb.port, nginx.port];
    try {
      pids.push(...[postgres.pid, nats.pid, mariadb.pid, nginx.pid, phpFpm.pid, redis.pid].map((pid) => pid ?? -1));

      const version = await postgres.query('postgres', 'SHOW server_version');
      expect(String(version.rows[0]?.['server_version'])).toMatch(/^\d+\.\d+/);
      // Never trust: the superuser without its password is refused, over TCP and over the socket.
      const withoutPassword = (url: string) => url.replace(/:[^:@/]+@/, '@');
      await expect(pgQuery(withoutPassword(postgres.url), 'SELECT 1')).rejects.toThrow(/password/);
      await expect(pgQuery(withoutPassword(postgres.socketUrlFor('postgres')), 'SELECT 1')).rejects.toThrow(/password/);

      expect(await mariadb.query('SELECT 1 + 1')).toEqual([['2']]);

      // Redis: no TCP port, the socket only; nothing without authenticating, the admin with its password file.
      expect(await run(['/usr/bin/redis-cli', '-s', redis.socket, 'GET', 'x'])).toMatch(/NOAUTH/);
      const admin = `AUTH ${redis.adminUser} ${readFileSync(redis.adminPasswordFile, 'utf8').trim()}\nACL WHOAMI\nCONFIG GET port\n`;
      expect((await run(['/usr/bin/redis-cli', '-s', redis.socket], { input: admin })).split('\n').slice(0, 4)).toEqual(['OK', redis.adminUser, 'port', '0']);
      expect(statSync(redis.adminPasswordFile).mode & 0o777).toBe(0o600);

      // nginx hands .php to the PHP-FPM pool over its socket.
      const docroot = join(harness.root, 'www');
      mkdirSync(docroot, { mode: 0o755 });
      writeFileSync(join(docroot, 'index.php'), '<?php echo "php ", PHP_MAJOR_VERSION, " as ", posix_getpwuid(posix_geteuid())["name"];');
      writeFileSync(
        join(nginx.sitesDir, 'probe.conf'),
        `server {
  listen 127.0.0.1:${nginx.port};
  server_name probe.example.test;
  root ${docroot};
  location ~ \\.php$ {
    include /etc/nginx/fastcgi_params;
    fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
    fastcgi_pass unix:${phpFpm.defaultSocket};
  }
}
`,
      );
      await nginx.reload();
      let body = '';
      for (let attempt = 0; attempt < 50 && !body.startsWith('php'); attempt++) {
        body = (await httpGet(`${nginx.url}/index.php`, { host: 'probe.example.test' })).body;
        if (!body.startsWith('php')) await new Promise((r) => setTimeout(r, 50));
      }
      expect(body).toBe('php 8 as www-data');

      // Mutual TLS: a client certificate from the test CA is accepted; no certificate is refused.
      const client = await nats.pki.issueClient('node-a');
      const tlsConnection = await connect({ servers: nats.url, tls: { ca: nats.pki.ca.cert, cert: client.cert, key: client.key } });
      await tlsConnection.flush();
      await tlsConnection.close();
      await expect(
        connect({ servers: nats.url, tls: { ca: nats.pki.ca.cert }, reconnect: false, timeout: 2000 }).then((c) => c.close()),
      ).rejects.toThrow();

      for (const port of ports) expect(await portOpen(port)).toBe(true);
      for (const pid of pids) expect(pidAlive(pid)).toBe(true);
    } finally {
      await harness.stop();
    }

    for (const pid of pids) expect(pidAlive(pid), `pid ${pid} still alive`).toBe(false);
    for (const port of ports) expect(await portOpen(port), `port ${port} still open`).toBe(false);
    expect(existsSync(harness.root)).toBe(false);
  });
});
