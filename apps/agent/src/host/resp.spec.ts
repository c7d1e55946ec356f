import { describe, expect, it } from 'vitest';
import { encodeCommand, parseReply, RespError } from './resp.js';

describe('encodeCommand', () => {
  it.each([
    [['PING'], '*1\r\n$4\r\nPING\r\n'],
    [['AUTH', 'u', 'p w\r\n'], '*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$5\r\np w\r\n\r\n'],
    [['SET', 'k', 'ä'], '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nä\r\n'],
  ])('%j: bulk strings with byte lengths (nothing to quote or escape)', (args, wire) => {
    expect(encodeCommand(args).toString('utf8')).toBe(wire);
  });
});

describe('parseReply', () => {
  it.each([
    ['+OK\r\n', 'OK'],
    [':42\r\n', 42],
    ['$5\r\nhello\r\n', 'hello'],
    ['$0\r\n\r\n', ''],
    ['$-1\r\n', null],
    ['*-1\r\n', null],
    ['*2\r\n$1\r\na\r\n:1\r\n', ['a', 1]],
    ['*2\r\n*1\r\n+x\r\n$-1\r\n', [['x'], null]],
    ['$4\r\na\r\nb\r\n', 'a\r\nb'],
  ])('%j', (wire, value) => {
    expect(parseReply(Buffer.from(wire))).toEqual({ value, next: Buffer.byteLength(wire) });
  });

  it('returns an error reply as a RespError value', () => {
    expect(parseReply(Buffer.from('-WRONGPASS invalid username-password pair\r\n'))?.value).toEqual(new RespError('WRONGPASS invalid username-password pair'));
  });

  it.each([['+OK'], ['$5\r\nhel'], ['$5\r\nhello'], ['*2\r\n:1\r\n'], ['']])('waits for the rest of %j', (wire) => {
    expect(parseReply(Buffer.from(wire))).toBeUndefined();
  });

  it('reads one reply at an offset and says where the next begins', () => {
    const wire = Buffer.from('+OK\r\n:7\r\n');
    expect(parseReply(wire, 5)).toEqual({ value: 7, next: wire.length });
  });

  it('refuses what is not RESP', () => {
    expect(() => parseReply(Buffer.from('HTTP/1.1 200 OK\r\n'))).toThrow(/not a RESP reply/);
  });
});
