import { chmod, chown } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import type { Logger } from '@pressluft/platform';
import { Dir } from './safe-fs.js';

/** The one request a site's must-use plugin sends (templates/wordpress/pressluft-cache.php). */
export const PURGE_REQUEST = 'purge';
/** Longer than any request: more without a newline ends the connection. */
const MAX_LINE_BYTES = 16;
/** A client that says nothing for this long is dropped. */
const IDLE_MS = 2_000;
/** Purges of one site start at most this often (a burst of saves is one purge). */
export const PURGE_INTERVAL_MS = 1_000;
/** Connections one site's socket serves at once. */
const MAX_CONNECTIONS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` at most once per `intervalMs`: a request while a run waits joins it; a request while
 * a run is going gets the next one (what changed during a purge is purged after it).
 */
export class Coalescer {
  private pending: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  request(): Promise<void> {
    this.pending ??= this.next();
    return this.pending;
  }

  private async next(): Promise<void> {
    await this.running?.catch(() => undefined);
    const wait = this.lastStart + this.intervalMs - Date.now();
    if (wait > 0) await sleep(wait);
    this.pending = undefined;
    this.lastStart = Date.now();
    this.running = this.work();
    return this.running;
  }
}

/** One site's socket: what it runs on a request. */
interface Listener {
  readonly server: Server;
  readonly coalescer: Coalescer;
}

/**
 * The sites' purge sockets (<stateDir>/sock/site_<id>/purge): root's, the site's group, 0660,
 * so only the site's own user (PHP in its jail, where that directory is bound) can connect. A
 * connection may send one short line, `purge\n`; the answer (`ok\n` once the purge ran, or
 * `error\n`) is all it gets. Nothing else is read and nothing is written where PHP can reach.
 */
export class PurgeSockets {
  private readonly listeners = new Map<string, Promise<Listener>>();

  constructor(private readonly logger: Logger) {}

  /**
   * Listens on `path` (a stale socket of an earlier agent is replaced) unless this agent does
   * already. `path`'s directory is root's and no tenant writes there: the socket is set up by path.
   */
  ensure(path: string, gid: () => Promise<number>, purge: () => Promise<void>): Promise<void> {
    let listener = this.listeners.get(path);
    if (!listener) {
      listener = gid().then((group) => listen(path, group, new Coalescer(purge, PURGE_INTERVAL_MS), this.logger));
      this.listeners.set(path, listener);
      listener.catch(() => this.listeners.delete(path));
    }
    return listener.then(() => undefined);
  }

  /** Stops listening on `path` and removes the socket (site removal). */
  async close(path: string): Promise<void> {
    const listener = this.listeners.get(path);
    this.listeners.delete(path);
    const server = await listener?.then((l) => l.server).catch(() => undefined);
    if (server) await new Promise((resolve) => server.close(resolve));
    await Dir.with(dirname(path), [], (dir) => dir.unlink(basename(path))).catch(() => undefined);
  }

  /** Every socket of this agent closed (tests, shutdown); the files stay for the next agent to replace. */
  async closeAll(): Promise<void> {
    const servers = await Promise.all([...this.listeners.values()].map((l) => l.then((x) => x.server).catch(() => undefined)));
    this.listeners.clear();
    await Promise.all(servers.map((server) => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))));
  }
}

async function listen(path: string, gid: number, coalescer: Coalescer, logger: Logger): Promise<Listener> {
  await Dir.with(dirname(path), [], (dir) => dir.unlink(basename(path)));
  // Half-open: a client that wrote its line and shut its side down still gets the answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => serve(socket, coalescer, path, logger));
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.warn({ socket: path, err: error.message }, 'purge socket failed'));
  try {
    await chown(path, 0, gid);
    await chmod(path, 0o660);
  } catch (error) {
    server.close();
    throw error;
  }
  return { server, coalescer };
}

function serve(socket: Socket, coalescer: Coalescer, path: string, logger: Logger): void {
  socket.on('error', () => undefined);
  socket.setTimeout(IDLE_MS, () => socket.destroy());
  let received = '';
  const onData = (chunk: Buffer) => {
    received += chunk.toString('latin1');
    const end = received.indexOf('\n');
    if (end < 0) {
      if (received.length > MAX_LINE_BYTES) socket.destroy();
      return;
    }
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    if (received.slice(0, end) !== PURGE_REQUEST) {
      socket.end('error\n');
      return;
    }
    coalescer.request().then(
      () => socket.end('ok\n'),
      (error: unknown) => {
        logger.warn({ socket: path, err: error instanceof Error ? error.message : String(error) }, 'page cache purge failed');
        socket.end('error\n');
      },
    );
  };
  // Ended before a whole line: nothing to answer.
  const onEnd = () => socket.destroy();
  socket.on('data', onData);
  socket.on('end', onEnd);
}
