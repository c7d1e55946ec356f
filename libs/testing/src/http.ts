import { request } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';
import { checkServerIdentity, type TLSSocket } from 'node:tls';

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface HttpOptions {
  readonly method?: string;
  /** The Host header (fetch cannot set it: a forbidden header), for sites routed by virtual host. */
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

/**
 * A plain HTTP request that can set the Host header, as nginx routes sites by it. One connection
 * per request (no keep-alive): a reused socket to an nginx worker retired by a reload would hang up.
 */
export function httpRequest(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { ...options.headers, ...(options.host ? { host: options.host } : {}) };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', agent: false, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export function httpGet(url: string, options: { host?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  return httpRequest(url, options);
}

export interface HttpsOptions extends HttpOptions {
  /** The name sent by SNI and as the Host header (a site's domain). */
  readonly servername: string;
  /** PEM of the CA the server's certificate must chain to (verification is always on). */
  readonly ca: string;
}

export interface HttpsResult extends HttpResult {
  /** The certificate the server presented. */
  readonly certificate: { readonly serialNumber: string; readonly subjectAltName: string; readonly validTo: string; readonly fingerprint256: string };
  readonly alpnProtocol: string | false;
}

/**
 * An HTTPS request to 127.0.0.1:<port> for a site by SNI, verified against `ca` (hostname
 * included). One connection per request, like httpRequest.
 */
export function httpsRequest(port: number, path: string, options: HttpsOptions): Promise<HttpsResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { ...options.headers, host: options.host ?? options.servername };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = httpsRequestRaw(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, headers, timeout: timeoutMs, servername: options.servername, ca: options.ca, checkServerIdentity: (_host, cert) => checkServerIdentity(options.servername, cert) },
      (res) => {
        const socket = res.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        const certificate = { serialNumber: peer.serialNumber, subjectAltName: peer.subjectaltname ?? '', validTo: peer.valid_to, fingerprint256: peer.fingerprint256 };
        const alpnProtocol = socket.alpnProtocol ?? false;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers, certificate, alpnProtocol }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} https://${options.servername}:${port}${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
