import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chownTo, systemUser } from './host.js';
import { ManagedProcess, run } from './process.js';

/** The admin ACL user the agent logs in as (tools/dev names it the same). */
export const REDIS_ADMIN_USER = 'pressluft-agent';

/**
 * A throwaway redis-server as a node runs it: run as `redis`, no TCP (`port 0`), only a Unix
 * socket under `<root>/redis`, nothing persisted but the ACL file (`save ''`, `ACL SAVE` writes
 * users.acl). The `default` user is off: every connection authenticates. The admin's password
 * never reaches argv: the server reads its SHA-256 from users.acl (0600, redis), the agent the
 * password from a root-only file.
 */
export class RedisService {
  private process: ManagedProcess | undefined;

  private constructor(
    private readonly dir: string,
    private readonly configFile: string,
    readonly socket: string,
    readonly adminUser: string,
    readonly adminPasswordFile: string,
  ) {}

  static async create(root: string): Promise<RedisService> {
    const user = systemUser('redis');
    const dir = join(root, 'redis');
    // 0711: nobody lists or reads it; site users reach the socket (authentication decides what they may do).
    mkdirSync(dir, { mode: 0o711 });
    chmodSync(dir, 0o711);
    chownTo(dir, user);
    const password = randomBytes(24).toString('hex');
    const adminPasswordFile = join(root, 'redis-admin-password');
    writeFileSync(adminPasswordFile, `${password}\n`, { mode: 0o600, flag: 'wx' });
    const aclFile = join(dir, 'users.acl');
    const digest = createHash('sha256').update(password).digest('hex');
    writeFileSync(aclFile, `user default off\nuser ${REDIS_ADMIN_USER} on #${digest} ~* &* +@all\n`, { mode: 0o600, flag: 'wx' });
    const socket = join(dir, 'redis.sock');
    const configFile = join(dir, 'redis.conf');
    writeFileSync(
      configFile,
      [
        'port 0',
        `unixsocket ${socket}`,
        'unixsocketperm 666',
        'databases 1',
        'save ""',
        'appendonly no',
        `aclfile ${aclFile}`,
        `dir ${dir}`,
        'daemonize no',
        'maxmemory 64mb',
        'maxmemory-policy allkeys-lru',
        '',
      ].join('\n'),
      { mode: 0o600, flag: 'wx' },
    );
    for (const file of [aclFile, configFile]) chownTo(file, user);
    const service = new RedisService(dir, configFile, socket, REDIS_ADMIN_USER, adminPasswordFile);
    service.process = ManagedProcess.start('redis-server', ['/usr/bin/redis-server', configFile], { logFile: join(dir, 'stdout.log'), cwd: dir, runAs: user });
    // Unauthenticated, PING answers NOAUTH: enough to know the socket is served.
    await service.process.waitUntil(async () => /PONG|NOAUTH/.test(await run(['/usr/bin/redis-cli', '-s', socket, 'PING'])));
    return service;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM', 10_000);
  }
}
