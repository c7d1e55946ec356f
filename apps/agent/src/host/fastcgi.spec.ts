import { describe, expect, it } from 'vitest';
import { decodeParams, decodeRecords, encodeParams, encodeRecord, encodeRequest, FCGI, parseCgiResponse } from './fastcgi.js';

describe('FastCGI records', () => {
  it('encodes a record header with padding to 8 bytes', () => {
    const record = encodeRecord(FCGI.STDOUT, 1, Buffer.from('hello'));
    expect([...record.subarray(0, 8)]).toEqual([1, 6, 0, 1, 0, 5, 3, 0]);
    expect(record.length).toBe(16);
    expect(record.subarray(8, 13).toString()).toBe('hello');
  });

  it('round-trips records, keeping a partial one as the rest', () => {
    const a = encodeRecord(FCGI.STDOUT, 1, Buffer.from('Status: 500\r\n\r\n'));
    const b = encodeRecord(FCGI.STDERR, 1, Buffer.from('oops'));
    const c = encodeRecord(FCGI.END_REQUEST, 1, Buffer.alloc(8));
    const all = Buffer.concat([a, b, c]);
    const first = decodeRecords(all.subarray(0, a.length + 3));
    expect(first.records.map((r) => r.type)).toEqual([FCGI.STDOUT]);
    expect(first.rest.length).toBe(3);
    const second = decodeRecords(Buffer.concat([first.rest, all.subarray(a.length + 3)]));
    expect(second.records.map((r) => [r.type, r.content.toString()])).toEqual([
      [FCGI.STDERR, 'oops'],
      [FCGI.END_REQUEST, '\0'.repeat(8)],
    ]);
    expect(second.rest.length).toBe(0);
  });

  it('encodes name-value pairs with 1- and 4-byte lengths', () => {
    const long = 'x'.repeat(300);
    const encoded = encodeParams({ A: 'b', LONG: long });
    expect([...encoded.subarray(0, 2)]).toEqual([1, 1]);
    expect(encoded.readUInt8(4)).toBe(4);
    expect(encoded.readUInt32BE(5)).toBe((0x80000000 | 300) >>> 0);
    expect(decodeParams(encoded)).toEqual({ A: 'b', LONG: long });
  });

  it('builds a request: BEGIN_REQUEST as responder, params, empty PARAMS and STDIN', () => {
    const { records, rest } = decodeRecords(encodeRequest(1, { REQUEST_METHOD: 'GET' }));
    expect(rest.length).toBe(0);
    expect(records.map((r) => [r.type, r.content.length])).toEqual([
      [FCGI.BEGIN_REQUEST, 8],
      [FCGI.PARAMS, 19],
      [FCGI.PARAMS, 0],
      [FCGI.STDIN, 0],
    ]);
    expect(records[0]?.content.readUInt16BE(0)).toBe(FCGI.RESPONDER);
    expect(decodeParams(records[1]?.content ?? Buffer.alloc(0))).toEqual({ REQUEST_METHOD: 'GET' });
  });
});

describe('parseCgiResponse', () => {
  it('is 200 without a Status header', () => {
    const r = parseCgiResponse(Buffer.from('Content-type: text/html; charset=UTF-8\r\nX-A: 1\r\n\r\n<html>'));
    expect(r).toEqual({ status: 200, headers: { 'content-type': 'text/html; charset=UTF-8', 'x-a': '1' }, body: '<html>' });
  });
  it('reads the Status header', () => {
    expect(parseCgiResponse(Buffer.from('Status: 500 Internal Server Error\r\nContent-type: text/html\r\n\r\n')).status).toBe(500);
    expect(parseCgiResponse(Buffer.from('Status: 301 Moved Permanently\r\nLocation: http://x/\r\n\r\n')).status).toBe(301);
  });
  it('is 302 with only a Location header, and takes LF-only headers', () => {
    expect(parseCgiResponse(Buffer.from('Location: /x\n\nbody')).status).toBe(302);
    expect(parseCgiResponse(Buffer.from('Location: /x\n\nbody')).body).toBe('body');
  });
  it('rejects a malformed Status', () => {
    expect(() => parseCgiResponse(Buffer.from('Status: abc\r\n\r\n'))).toThrow(/Status/);
  });
});
