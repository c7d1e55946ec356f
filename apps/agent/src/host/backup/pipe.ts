import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { describeExit } from '@pressluft/domain';
import { CappedBuffer } from '../capped.js';

/**
 * `producer | consumer` with the agent in the middle (restic 0.14 has no --stdin-from-command):
 * the consumer sees the end of its input (EOF) only once the producer exited 0, by no signal, and
 * `judge` found its stream complete. Otherwise the consumer is killed (SIGKILL) while still
 * reading: restic saves a snapshot only after its input ended, the mariadb client and tar are
 * stopped mid-way (their half-written target is the caller's to discard). A consumer that ends
 * before its input did failed: the producer is killed. Every exit status is checked. Both sides
 * are single processes (setpriv execs its command): an end is seen when their pipes close.
 */
export interface PipeSide {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface PipeOptions {
  readonly producer: PipeSide;
  readonly consumer: PipeSide;
  /** Both are killed after this long. */
  readonly timeoutMs: number;
  /** Whether the producer's exit counts as a success (default: exit 0, by no signal). */
  readonly producerOk?: (ended: Ended) => boolean;
  /** Why the producer's stream is not good although it exited 0 (`last`: its final bytes), or undefined. */
  readonly judge?: (last: Buffer) => string | undefined;
  /** Each complete line of the consumer's stdout (restic's --json status lines), as it comes. */
  readonly onConsumerLine?: (line: string) => void;
  /**
   * The consumer may exit 0 before its input ended (tar -x stops at the archive's end-of-archive
   * blocks): the rest of the producer's output is then read and dropped, and the producer's own
   * exit still decides.
   */
  readonly consumerMayEndFirst?: boolean;
  /** Each complete line of the producer's stderr (tar's verbose listing). */
  readonly onProducerErrLine?: (line: string) => void;
}

/** How a pipe ended; `failure` names the side that failed and how, or is undefined when both succeeded. */
export interface PipeOutcome {
  readonly failure?: { readonly side: 'producer' | 'consumer' | 'timeout'; readonly why: string };
  /** The consumer ended before its input did: the producer was killed. */
  readonly producerStopped: boolean;
  readonly producer: Ended;
  readonly consumer: Ended;
  /** The tail of the consumer's stdout (restic's summary is its last line). */
  readonly consumerOut: string;
  readonly producerErr: string;
  readonly consumerErr: string;
}

/** Bytes of the producer's end kept for `judge` (mariadb-dump's trailer line). */
const LAST_WINDOW = 256;
const CAPTURE_BYTES = 64 * 1024;

function closed(child: ChildProcess): Promise<Ended> {
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
}

/** Calls `fn` with each complete line of a stream (the last bytes without a newline are held until one comes). */
function eachLine(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    const text = pending + chunk.toString('utf8');
    const lines = text.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) fn(line);
  });
}

export async function pipe(options: PipeOptions): Promise<PipeOutcome> {
  const [producerCommand, ...producerArgs] = options.producer.argv;
  const [consumerCommand, ...consumerArgs] = options.consumer.argv;
  if (!producerCommand || !consumerCommand) throw new Error('empty argv');
  const consumer = spawn(consumerCommand, consumerArgs, { env: options.consumer.env, cwd: options.consumer.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const producer = spawn(producerCommand, producerArgs, { env: options.producer.env, cwd: options.producer.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const consumerOut = new CappedBuffer(CAPTURE_BYTES, 'tail');
  const consumerErr = new CappedBuffer(CAPTURE_BYTES, 'tail');
  const producerErr = new CappedBuffer(CAPTURE_BYTES, 'tail');
  const last = new CappedBuffer(LAST_WINDOW, 'tail');
  consumer.stdout.on('data', (chunk: Buffer) => consumerOut.push(chunk));
  consumer.stderr.on('data', (chunk: Buffer) => consumerErr.push(chunk));
  producer.stderr.on('data', (chunk: Buffer) => producerErr.push(chunk));
  producer.stdout.on('data', (chunk: Buffer) => last.push(chunk));
  if (options.onConsumerLine) eachLine(consumer.stdout, options.onConsumerLine);
  if (options.onProducerErrLine) eachLine(producer.stderr, options.onProducerErrLine);
  // The agent decides when the consumer sees the end of its input: only after a good stream.
  producer.stdout.pipe(consumer.stdin, { end: false });
  consumer.stdin.on('error', () => undefined);

  // Killed, the producer's output is read to its end (no longer into the consumer), so its 'close' comes.
  const stopProducer = () => {
    producer.kill('SIGKILL');
    producer.stdout.unpipe(consumer.stdin);
    producer.stdout.resume();
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stopProducer();
    consumer.kill('SIGKILL');
  }, options.timeoutMs);
  const spawnError = new Promise<never>((_, reject) => {
    producer.on('error', reject);
    consumer.on('error', reject);
  });
  let producerEnded = false;
  let consumerFailedFirst = false;
  const consumerEnded = closed(consumer);
  void consumerEnded.then(({ code, signal }) => {
    if (producerEnded) return;
    if (options.consumerMayEndFirst && code === 0 && !signal) {
      producer.stdout.unpipe(consumer.stdin);
      producer.stdout.resume();
      return;
    }
    consumerFailedFirst = true;
    stopProducer();
  });
  try {
    const produced = await Promise.race([closed(producer), spawnError]);
    producerEnded = true;
    const producerWhy = consumerFailedFirst ? undefined : producerFailure(basename(producerCommand), produced, last.bytes(), options.judge, options.producerOk);
    if (producerWhy || timedOut) consumer.kill('SIGKILL');
    else consumer.stdin.end();
    const consumed = await Promise.race([consumerEnded, spawnError]);
    const failure = timedOut
      ? { side: 'timeout' as const, why: `timed out after ${options.timeoutMs} ms` }
      : producerWhy
        ? { side: 'producer' as const, why: producerWhy }
        : consumerFailedFirst || consumed.code !== 0 || consumed.signal
          ? { side: 'consumer' as const, why: `${basename(consumerCommand)} ${describeExit(consumed.code, consumed.signal)}${consumerFailedFirst ? ` before the end of its input; ${basename(producerCommand)} was stopped` : ''}` }
          : undefined;
    return { ...(failure ? { failure } : {}), producerStopped: consumerFailedFirst, producer: produced, consumer: consumed, consumerOut: consumerOut.text(), producerErr: producerErr.text(), consumerErr: consumerErr.text() };
  } finally {
    clearTimeout(timer);
    producer.kill('SIGKILL');
    consumer.kill('SIGKILL');
  }
}

/** Why the producer's stream is not good, or undefined if it is. */
export function producerFailure(command: string, ended: Ended, last: Buffer, judge: PipeOptions['judge'], ok: PipeOptions['producerOk']): string | undefined {
  if (!(ok ?? ((e: Ended) => e.code === 0 && !e.signal))(ended)) return `${command} ${describeExit(ended.code, ended.signal)}`;
  return judge?.(last);
}
