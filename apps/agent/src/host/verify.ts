import { request } from 'node:http';

export interface Probe {
  readonly status: number;
  readonly body: string;
}

/** One GET with a Host header (virtual-host routing), no keep-alive: a reload retires workers. */
export function getWithHost(host: string, port: number, hostHeader: string, path = '/', timeoutMs = 5_000): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, headers: { host: hostHeader }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${hostHeader}${path} via ${host}:${port}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
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
