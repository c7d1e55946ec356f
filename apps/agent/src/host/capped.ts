/** What a capped stream keeps: its first bytes (an answer's headers) or its last ones (the error at the end of a command's output). */
export type KeepEnd = 'head' | 'tail';

/** Default cap per captured stream (a child's stdout or stderr). */
export const DEFAULT_CAPTURE_BYTES = 1024 * 1024;

/**
 * At most `limit` bytes of a stream, the head or the tail, and how many were dropped: whatever
 * a child or a site sends, the agent's memory holds no more than this.
 */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private droppedBytes = 0;

  constructor(
    private readonly limit: number,
    private readonly keep: KeepEnd,
  ) {}

  /** Bytes seen but not kept. */
  get dropped(): number {
    return this.droppedBytes;
  }

  /** Head mode: nothing more will be kept. */
  get full(): boolean {
    return this.keep === 'head' && this.kept >= this.limit;
  }

  push(chunk: Buffer): void {
    const room = this.keep === 'head' ? Math.max(0, this.limit - this.kept) : this.limit;
    const part = this.keep === 'head' ? chunk.subarray(0, room) : chunk.subarray(Math.max(0, chunk.length - room));
    this.droppedBytes += chunk.length - part.length;
    if (part.length > 0) {
      this.chunks.push(part);
      this.kept += part.length;
    }
    while (this.kept > this.limit) {
      const first = this.chunks[0];
      if (!first) break;
      const excess = Math.min(first.length, this.kept - this.limit);
      if (excess === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(excess);
      this.kept -= excess;
      this.droppedBytes += excess;
    }
  }

  /** The kept bytes. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The kept bytes as text, saying where and how much was dropped. */
  text(): string {
    const text = this.bytes().toString('utf8');
    if (this.droppedBytes === 0) return text;
    const note = `[... ${this.droppedBytes} bytes dropped]`;
    return this.keep === 'head' ? `${text}\n${note}` : `${note}\n${text}`;
  }
}
