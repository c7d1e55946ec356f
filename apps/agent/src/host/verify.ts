import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as tlsRequest } from 'node:https';
import { CappedBuffer, DEFAULT_CAPTURE_BYTES } from './capped.js';

export interface Probe {
  readonly status: number;
  readonly body: string;
  /** The Location header of a redirect. */
  readonly location?: string;
}

/** Where a site's HTTPS is served on this node (nginx's TLS listen), for a probe that follows the node's own redirect. */
export interface TlsTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * One GET with a Host header (virtual-host routing), no keep-alive: a reload retires workers.
 * The whole exchange ends within `timeoutMs` (a body trickling in does not extend it), and only
 * the first `maxBytes` of the body are read: then the answer is taken as it is and the
 * connection closed, so a page that streams without end costs no more than that.
 */
export function getWithHost(host: string, port: number, hostHeader: string, path = '/', timeoutMs = 5_000, maxBytes = DEFAULT_CAPTURE_BYTES, tls = false): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const options = { host, port, path, method: 'GET', agent: false, headers: { host: hostHeader } } as const;
    const onResponse = (res: IncomingMessage) => {
      const body = new CappedBuffer(maxBytes, 'head');
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      const answer = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: body.text(), ...(location !== undefined ? { location } : {}) });
      };
      res.on('data', (chunk: Buffer) => {
        body.push(chunk);
        if (!body.full) return;
        answer();
        req.destroy();
      });
      res.on('end', answer);
      res.on('error', reject);
    };
    // Over TLS the site is asked for by SNI; its certificate is not what is checked here (serving is).
    const req: ClientRequest = tls ? tlsRequest({ ...options, servername: hostHeader, rejectUnauthorized: false }, onResponse) : request(options, onResponse);
    const timer = setTimeout(() => req.destroy(new Error(`GET ${tls ? 'https' : 'http'}://${hostHeader}${path} via ${host}:${port}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/**
 * Whether `probe` is the node's own HTTP-to-HTTPS redirect for `hostHeader` (a site with its
 * certificate): then the site itself answers over HTTPS. Pure.
 */
export function redirectsToHttps(probe: Probe, hostHeader: string): boolean {
  return (probe.status === 301 || probe.status === 308) && probe.location !== undefined && new RegExp(`^https://${hostHeader.replace(/\./g, '\\.')}(:[0-9]{1,5})?/`).test(probe.location);
}

/**
 * Polls until the site answers 200 (nginx's reload takes ~100 ms to reach the workers). A site
 * whose HTTP answer is the node's redirect to its HTTPS is asked again there (`tls`), by SNI.
 * Resolves with the last answer, 200 or not, at the deadline; rejects never.
 */
export async function waitFor200(
  host: string,
  port: number,
  hostHeader: string,
  timeoutMs: number,
  onWait?: () => Promise<void>,
  trace?: (attempt: { status: number | string; ms: number }) => void,
  tls?: TlsTarget,
): Promise<Probe | Error> {
  const deadline = Date.now() + timeoutMs;
  let last: Probe | Error = new Error('no attempt');
  let lastTick = Date.now();
  for (;;) {
    const started = Date.now();
    try {
      const budget = () => Math.max(1000, Math.min(10_000, deadline - Date.now()));
      last = await getWithHost(host, port, hostHeader, '/', budget());
      if (tls && redirectsToHttps(last, hostHeader)) last = await getWithHost(tls.host, tls.port, hostHeader, '/', budget(), DEFAULT_CAPTURE_BYTES, true);
      trace?.({ status: last.status, ms: Date.now() - started });
      if (last.status === 200) return last;
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
      trace?.({ status: last.message, ms: Date.now() - started });
    }
    if (Date.now() >= deadline) return last;
    if (onWait && Date.now() - lastTick > 2000) {
      lastTick = Date.now();
      await onWait();
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
