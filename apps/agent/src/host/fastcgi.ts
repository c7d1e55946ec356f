import { connect } from 'node:net';
import { CappedBuffer, DEFAULT_CAPTURE_BYTES } from './capped.js';

/** FastCGI 1.0 record types (the subset a responder client needs). */
export const FCGI = {
  BEGIN_REQUEST: 1,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  RESPONDER: 1,
} as const;

const HEADER_BYTES = 8;
const MAX_CONTENT = 0xffff;

/** One record: header (version 1, type, request id, content length, padding) + content + padding to 8 bytes. */
export function encodeRecord(type: number, requestId: number, content: Buffer = Buffer.alloc(0)): Buffer {
  if (content.length > MAX_CONTENT) throw new Error(`FastCGI record content too long: ${content.length}`);
  const padding = (8 - (content.length % 8)) % 8;
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(1, 0);
  header.writeUInt8(type, 1);
  header.writeUInt16BE(requestId, 2);
  header.writeUInt16BE(content.length, 4);
  header.writeUInt8(padding, 6);
  return Buffer.concat([header, content, Buffer.alloc(padding)]);
}

function encodeLength(length: number): Buffer {
  if (length < 128) return Buffer.from([length]);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((length | 0x80000000) >>> 0, 0);
  return out;
}

/** Name-value pairs as FastCGI encodes them (1-byte lengths below 128, else 4 bytes with the high bit set). */
export function encodeParams(params: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(params)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(encodeLength(n.length), encodeLength(v.length), n, v);
  }
  return Buffer.concat(parts);
}

/** The inverse of encodeParams (for tests and for completeness). */
export function decodeParams(buffer: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  const length = () => {
    const first = buffer.readUInt8(at);
    if (first < 128) {
      at += 1;
      return first;
    }
    const value = buffer.readUInt32BE(at) & 0x7fffffff;
    at += 4;
    return value;
  };
  while (at < buffer.length) {
    const n = length();
    const v = length();
    const name = buffer.subarray(at, at + n).toString('utf8');
    at += n;
    out[name] = buffer.subarray(at, at + v).toString('utf8');
    at += v;
  }
  return out;
}

/** The whole request of a responder without a body: BEGIN_REQUEST, PARAMS (split into records), empty PARAMS, empty STDIN. */
export function encodeRequest(requestId: number, params: Readonly<Record<string, string>>): Buffer {
  const begin = Buffer.alloc(8);
  begin.writeUInt16BE(FCGI.RESPONDER, 0);
  begin.writeUInt8(0, 2); // flags: close the connection after the request
  const records = [encodeRecord(FCGI.BEGIN_REQUEST, requestId, begin)];
  const body = encodeParams(params);
  for (let at = 0; at < body.length; at += MAX_CONTENT) records.push(encodeRecord(FCGI.PARAMS, requestId, body.subarray(at, at + MAX_CONTENT)));
  records.push(encodeRecord(FCGI.PARAMS, requestId), encodeRecord(FCGI.STDIN, requestId));
  return Buffer.concat(records);
}

export interface FcgiRecord {
  readonly type: number;
  readonly requestId: number;
  readonly content: Buffer;
}

/** Splits complete records off the front of `buffer`; returns them and the unconsumed rest. */
export function decodeRecords(buffer: Buffer): { records: FcgiRecord[]; rest: Buffer } {
  const records: FcgiRecord[] = [];
  let at = 0;
  while (buffer.length - at >= HEADER_BYTES) {
    const length = buffer.readUInt16BE(at + 4);
    const padding = buffer.readUInt8(at + 6);
    const total = HEADER_BYTES + length + padding;
    if (buffer.length - at < total) break;
    records.push({ type: buffer.readUInt8(at + 1), requestId: buffer.readUInt16BE(at + 2), content: buffer.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length) });
    at += total;
  }
  return { records, rest: buffer.subarray(at) };
}

export interface CgiResponse {
  /** From the Status header; 200 when absent (CGI), 302 when only Location is set. */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Parses a CGI response (headers, blank line, body), as PHP-FPM writes it to STDOUT. */
export function parseCgiResponse(stdout: Buffer): CgiResponse {
  const text = stdout.toString('utf8');
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  const [end, sep] = crlf !== -1 && (lf === -1 || crlf < lf) ? [crlf, 4] : lf !== -1 ? [lf, 2] : [text.length, 0];
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const statusHeader = headers['status'];
  let status = 200;
  if (statusHeader !== undefined) {
    const parsed = Number(/^(\d{3})/.exec(statusHeader)?.[1]);
    if (!Number.isInteger(parsed)) throw new Error(`bad CGI Status header ${JSON.stringify(statusHeader)}`);
    status = parsed;
  } else if (headers['location'] !== undefined) {
    status = 302;
  }
  return { status, headers, body: text.slice(end + sep) };
}

export interface FcgiResult extends CgiResponse {
  readonly stderr: string;
}

/**
 * One FastCGI request over a Unix socket; rejects on a connection error or after `timeoutMs`.
 * Keeps the first `maxBytes` of the answer (headers and the start of the body) and the last
 * `maxBytes` of its stderr: once the answer's cap is reached the connection is closed and the
 * request ends with what it has, so a page that streams without end costs no more than that.
 */
export function fastcgiRequest(socketPath: string, params: Readonly<Record<string, string>>, timeoutMs = 30_000, maxBytes = DEFAULT_CAPTURE_BYTES): Promise<FcgiResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const stdout = new CappedBuffer(maxBytes, 'head');
    const stderr = new CappedBuffer(maxBytes, 'tail');
    let pending: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) {
        reject(error);
        return;
      }
      try {
        resolve({ ...parseCgiResponse(stdout.bytes()), stderr: stderr.text() });
      } catch (parseError) {
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    };
    const timer = setTimeout(() => finish(new Error(`no FastCGI answer from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(encodeRequest(1, params)));
    socket.on('data', (chunk: Buffer) => {
      const { records, rest } = decodeRecords(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const record of records) {
        if (record.type === FCGI.STDOUT) stdout.push(record.content);
        else if (record.type === FCGI.STDERR) stderr.push(record.content);
        else if (record.type === FCGI.END_REQUEST) finish();
      }
      if (stdout.full) finish();
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(done ? undefined : new Error(`PHP-FPM closed ${socketPath} before the end of the request`)));
  });
}
