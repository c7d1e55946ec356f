import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A request Node's parser refuses before the app sees it (a head over the 16 KiB limit, a
 * malformed request line) still gets a Kubernetes Status, as every other refusal: Node's own
 * answer is a bare status line. 431 for an oversize head, 400 otherwise.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const code = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: tooLarge ? 'the request head (request line and headers) is larger than 16 KiB' : 'the request cannot be parsed as HTTP/1.1',
      reason: tooLarge ? 'RequestHeaderFieldsTooLarge' : 'BadRequest',
      code,
    });
    const status = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(`HTTP/1.1 ${code} ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
