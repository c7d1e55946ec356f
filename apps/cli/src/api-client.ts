import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiError, UnreachableError, type ApiStatus } from './errors.js';

export const V1 = '/apis/pressluft.io/v1';

/** Where to send requests: the server, the bearer token (none for nothing but login), the CA. */
export interface Target {
  readonly server: string;
  readonly token?: string;
  readonly certificateAuthority?: string;
}

export interface WatchEvent<T = ApiObject> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

/** The members of an API object the CLI reads; everything else passes through to -o json|yaml. */
export interface ApiObject {
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly resourceVersion?: string; readonly creationTimestamp?: string; readonly labels?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** The API over HTTP or HTTPS (with the config's CA); errors become ApiError or UnreachableError. */
export class ApiClient {
  constructor(private readonly target: Target) {}

  get server(): string {
    return this.target.server;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.open(method, path, body, REQUEST_TIMEOUT_MS);
    const text = await readAll(response);
    if ((response.statusCode ?? 0) >= 400) throw new ApiError(response.statusCode ?? 0, statusOf(text));
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * One watch stream (`?watch=true` on `path`): `onEvent` sees each JSON line and returns true when
   * the caller is done. Resolves true then, false when the server ended the stream first.
   */
  async watchOnce<T = ApiObject>(path: string, onEvent: (event: WatchEvent<T>) => boolean | Promise<boolean>, signal?: AbortSignal): Promise<boolean> {
    const response = await this.open('GET', path, undefined, undefined, signal);
    if ((response.statusCode ?? 0) >= 400) throw new ApiError(response.statusCode ?? 0, statusOf(await readAll(response)));
    let buffered = '';
    try {
      for await (const chunk of response) {
        buffered += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line && (await onEvent(JSON.parse(line) as WatchEvent<T>))) {
            response.destroy();
            return true;
          }
        }
      }
    } catch (error) {
      if (signal?.aborted) return true;
      throw new UnreachableError(`the watch stream from ${this.target.server} broke: ${(error as Error).message}`);
    }
    return false;
  }

  private open(method: string, path: string, body: unknown, timeoutMs: number | undefined, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(path, this.target.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.target.token) headers['Authorization'] = `Bearer ${this.target.token}`;
    if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) });
    const options: RequestOptions & { ca?: string } = { method, headers, ...(signal ? { signal } : {}) };
    const secure = url.protocol === 'https:';
    if (secure && this.target.certificateAuthority) options.ca = this.target.certificateAuthority;
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(url, options, resolve);
      const fail = (message: string) => reject(new UnreachableError(`cannot reach ${this.target.server}: ${message}`));
      if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', (error) => fail(error.message));
      req.end(payload);
    });
  }
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', (error) => reject(new UnreachableError(`the answer broke off: ${error.message}`)));
  });
}

/** The Status body of an error answer, or a stand-in when it is not one (a proxy's HTML page). */
export function statusOf(text: string): ApiStatus {
  try {
    const parsed = JSON.parse(text) as ApiStatus;
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // not JSON
  }
  return { message: text.slice(0, 200) || undefined };
}
