import { connect, type Socket } from 'node:net';
import { messageOf } from './errors.js';
import { getWithHost } from './verify.js';

/** What one probe of a site through nginx saw: its HTTP status, or why there was no answer. */
export interface SiteProbe {
  readonly status?: number;
  readonly error?: string;
  readonly seconds: number;
}

/** The body is not looked at: 4 KiB are enough to see the answer started. */
const PROBE_BODY_BYTES = 4096;

/** GET / with the site's Host header through the node's nginx, as a visitor would ask. */
export async function probeSite(host: string, port: number, domain: string, timeoutMs: number): Promise<SiteProbe> {
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  try {
    const answer = await getWithHost(host, port, domain, '/', timeoutMs, PROBE_BODY_BYTES);
    return { status: answer.status, seconds: seconds() };
  } catch (error) {
    return { error: messageOf(error), seconds: seconds() };
  }
}

export interface ServiceCheck {
  readonly up: boolean;
  /** Why it is down. */
  readonly message: string;
}

/**
 * Opens a connection (TCP host:port, or a Unix socket path) and, when `greeting` is set, writes
 * it; up when the service answers anything within `timeoutMs` (a TCP listener: when it accepts).
 * MariaDB greets first; Redis answers PING (even with NOAUTH: it is up).
 */
export function checkService(target: { readonly host: string; readonly port: number } | { readonly path: string }, options: { readonly answer: boolean; readonly greeting?: string; readonly timeoutMs: number }): Promise<ServiceCheck> {
  return new Promise((resolve) => {
    const socket: Socket = 'path' in target ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
    const done = (check: ServiceCheck) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(check);
    };
    const timer = setTimeout(() => done({ up: false, message: `no answer within ${options.timeoutMs} ms` }), options.timeoutMs);
    socket.on('connect', () => {
      if (options.greeting) socket.write(options.greeting);
      if (!options.answer) done({ up: true, message: '' });
    });
    socket.on('data', () => done({ up: true, message: '' }));
    socket.on('error', (error) => done({ up: false, message: `connect ${messageOf(error)}` }));
    socket.on('close', () => done({ up: false, message: 'closed the connection without an answer' }));
  });
}
