import { request } from 'node:http';
import { CappedBuffer, DEFAULT_CAPTURE_BYTES } from './capped.js';

export interface Probe {
  readonly status: number;
  readonly body: string;
}

/**
 * One GET with a Host header (virtual-host routing), no keep-alive: a reload retires workers.
 * The whole exchange ends within `timeoutMs` (a body trickling in does not extend it), and only
 * the first `maxBytes` of the body are read: then the answer is taken as it is and the
 * connection closed, so a page that streams without end costs no more than that.
 */
export function getWithHost(host: string, port: number, hostHeader: string, path = '/', timeoutMs = 5_000, maxBytes = DEFAULT_CAPTURE_BYTES): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, headers: { host: hostHeader } }, (res) => {
      const body = new CappedBuffer(maxBytes, 'head');
      const answer = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: body.text() });
      };
      res.on('data', (chunk: Buffer) => {
        body.push(chunk);
        if (!body.full) return;
        answer();
        req.destroy();
      });
      res.on('end', answer);
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET http://${hostHeader}${path} via ${host}:${port}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/**
 * Polls until the site answers 200 (nginx's reload takes ~100 ms to reach the workers).
 * Resolves with the last answer, 200 or not, at the deadline; rejects never.
 */
export async function waitFor200(
  host: string,
  port: number,
  hostHeader: string,
  timeoutMs: number,
  onWait?: () => Promise<void>,
  trace?: (attempt: { status: number | string; ms: number }) => void,
): Promise<Probe | Error> {
  const deadline = Date.now() + timeoutMs;
  let last: Probe | Error = new Error('no attempt');
  let lastTick = Date.now();
  for (;;) {
    const started = Date.now();
    try {
      last = await getWithHost(host, port, hostHeader, '/', Math.max(1000, Math.min(10_000, deadline - Date.now())));
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
