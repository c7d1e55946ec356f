import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Exactly the headers sent (no Content-Type or Content-Length is added). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  /** Stop reading once a 2xx status line arrived (a watch that was accepted streams forever). */
  readonly headersOnlyOn2xx?: boolean;
  /** A response not complete by then is an error (a hang). */
  readonly timeoutMs?: number;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** One request on its own connection, the path, every header and byte as given: for API tests of malformed input. */
export function rawRequest(baseUrl: string, path: string, options: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    // The path goes out as given: `new URL` would resolve dot segments and read `//x` as a host.
    const req = httpRequest({ hostname, port, path, method: options.method, headers: options.headers, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (options.headersOnlyOn2xx && status >= 200 && status < 300) {
        resolve({ status, headers: res.headers, text: '' });
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no complete response within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
