import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly body: T;
}

export interface ApiRequest {
  readonly method?: string;
  readonly token?: string | undefined;
  readonly body?: unknown;
  /** Sent as is (for YAML, malformed and oversize bodies). */
  readonly raw?: string | Buffer;
  readonly contentType?: string;
  readonly accept?: string;
  readonly headers?: Record<string, string>;
  readonly ca?: string;
}

/** A minimal HTTP client for API tests: no keep-alive, any method, raw bodies, JSON answers parsed. */
export function api<T = Record<string, unknown>>(baseUrl: string, path: string, options: ApiRequest = {}): Promise<ApiResponse<T>> {
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.accept) headers['accept'] = options.accept;
  const url = new URL(path, baseUrl);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: options.method ?? 'GET', headers, agent: false, ...(options.ca ? { ca: options.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: body as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
