import type { Harness } from './harness.js';

/** What the run-wide harness provides to every integration test (plain data: tests run in workers). */
export interface SharedServices {
  readonly root: string;
  readonly postgres: { readonly url: string; readonly port: number };
  readonly nats: { readonly url: string; readonly port: number };
  readonly mariadb: { readonly defaultsFile: string; readonly socket: string; readonly port: number };
  /** tlsPort: where site blocks serve HTTPS (the agent's nginx.tlsListen). */
  readonly nginx: { readonly url: string; readonly port: number; readonly tlsPort: number; readonly sitesDir: string; readonly pid: number };
  readonly phpFpm: { readonly poolDir: string; readonly defaultSocket: string; readonly pid: number };
  /** The node's redis-server: its socket, and the admin the agent logs in as (password in a root-only file). */
  readonly redis: { readonly socket: string; readonly adminUser: string; readonly adminPasswordFile: string; readonly pid: number };
}

export function describeShared(harness: Harness): SharedServices {
  const { postgres, nats, mariadb, nginx, phpFpm, redis } = harness;
  if (!postgres || !nats || !mariadb || !nginx?.pid || !phpFpm?.pid || !redis?.pid) throw new Error('the shared harness needs every service');
  return {
    root: harness.root,
    postgres: { url: postgres.url, port: postgres.port },
    nats: { url: nats.url, port: nats.port },
    mariadb: { defaultsFile: mariadb.defaultsFile, socket: mariadb.socket, port: mariadb.port },
    nginx: { url: nginx.url, port: nginx.port, tlsPort: nginx.tlsPort, sitesDir: nginx.sitesDir, pid: nginx.pid },
    phpFpm: { poolDir: phpFpm.poolDir, defaultSocket: phpFpm.defaultSocket, pid: phpFpm.pid },
    redis: { socket: redis.socket, adminUser: redis.adminUser, adminPasswordFile: redis.adminPasswordFile, pid: redis.pid },
  };
}
