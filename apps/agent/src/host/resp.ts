import { connect, type Socket } from 'node:net';

/** An error reply (`-ERR ...`, `-WRONGPASS ...`, `-NOPERM ...`): a value, so a caller can tell it from a broken connection. */
export class RespError {
  constructor(readonly message: string) {}
}

/** A RESP2 reply: simple or bulk string, integer, nil, error, or an array of these. */
export type RespValue = string | number | null | RespError | RespValue[];

/** One command as RESP2 sends it: an array of bulk strings (any bytes, no quoting, nothing to escape). */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/** Parses one reply at `offset`; undefined while the buffer does not hold all of it yet. */
export function parseReply(buffer: Buffer, offset = 0): { value: RespValue; next: number } | undefined {
  const end = buffer.indexOf('\r\n', offset);
  if (end < 0) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new RespError(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), next: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`not a RESP reply (type byte ${JSON.stringify(type)})`);
  }
}

/**
 * One connection to a Redis server's Unix socket. Commands are sent in order and their replies
 * matched in order; arguments (passwords included) travel only inside the protocol. Every reply
 * must arrive within `timeoutMs` of the last byte, or the connection is closed with an error.
 */
export class RespConnection {
  private buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (value: RespValue) => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('redis closed the connection')));
    socket.on('timeout', () => socket.destroy(new Error('redis did not answer in time')));
  }

  static open(path: string, timeoutMs = 10_000): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path });
      socket.setTimeout(timeoutMs);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RespConnection(socket));
      });
    });
  }

  command(args: readonly string[]): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    try {
      for (let reply = parseReply(this.buffer); reply; reply = parseReply(this.buffer)) {
        this.buffer = this.buffer.subarray(reply.next);
        const waiter = this.waiting.shift();
        if (!waiter) throw new Error('redis sent a reply nobody asked for');
        waiter.resolve(reply.value);
      }
    } catch (error) {
      this.socket.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}
