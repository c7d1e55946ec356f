import { describe, expect, it } from 'vitest';
import { BASE_ENV } from '../exec.js';
import { pipe, producerFailure } from './pipe.js';

const sh = (script: string) => ({ argv: ['/bin/sh', '-c', script], env: BASE_ENV });

describe('producerFailure', () => {
  it('names the exit, then asks the judge; producerOk may accept another exit', () => {
    const last = Buffer.from('tail');
    expect(producerFailure('tar', { code: 0, signal: null }, last, undefined, undefined)).toBeUndefined();
    expect(producerFailure('tar', { code: 2, signal: null }, last, undefined, undefined)).toBe('tar exited with code 2');
    expect(producerFailure('tar', { code: null, signal: 'SIGKILL' }, last, undefined, undefined)).toBe('tar killed by SIGKILL');
    expect(producerFailure('tar', { code: 1, signal: null }, last, undefined, (e) => e.code === 1)).toBeUndefined();
    expect(producerFailure('dump', { code: 0, signal: null }, last, (b) => (b.toString() === 'tail' ? 'no trailer' : undefined), undefined)).toBe('no trailer');
  });
});

describe('pipe (real processes)', () => {
  it('hands the consumer the whole stream and its end when the producer succeeded', async () => {
    const lines: string[] = [];
    const outcome = await pipe({ producer: sh('printf "a\\nb\\n"'), consumer: sh('cat; echo done'), timeoutMs: 10_000, onConsumerLine: (l) => lines.push(l) });
    expect(outcome.failure).toBeUndefined();
    expect(lines).toEqual(['a', 'b', 'done']);
  });

  it('kills the consumer before the end of its input when the producer fails: the consumer never sees EOF', async () => {
    const outcome = await pipe({ producer: sh('printf "half"; exit 3'), consumer: sh('cat >/dev/null; echo saw-eof'), timeoutMs: 10_000 });
    expect(outcome.failure).toEqual({ side: 'producer', why: 'sh exited with code 3' });
    expect(outcome.consumer.signal).toBe('SIGKILL');
    expect(outcome.consumerOut).not.toContain('saw-eof');
  });

  it('stops the producer when the consumer fails first', async () => {
    const outcome = await pipe({ producer: sh('exec yes'), consumer: sh('head -c 10 >/dev/null; exit 4'), timeoutMs: 10_000 });
    expect(outcome.failure?.side).toBe('consumer');
    expect(outcome.producerStopped).toBe(true);
  });

  it('lets a consumer that may end first end first (tar at its end-of-archive); the producer still decides', async () => {
    const ok = await pipe({ producer: sh('yes | head -c 100000'), consumer: sh('head -c 10 >/dev/null'), consumerMayEndFirst: true, timeoutMs: 10_000 });
    expect(ok.failure).toBeUndefined();
    const bad = await pipe({ producer: sh('yes | head -c 100000; exit 5'), consumer: sh('head -c 10 >/dev/null'), consumerMayEndFirst: true, timeoutMs: 10_000 });
    expect(bad.failure).toEqual({ side: 'producer', why: 'sh exited with code 5' });
  });

  it('kills both after the timeout', async () => {
    const outcome = await pipe({ producer: sh('exec sleep 30'), consumer: sh('exec cat'), timeoutMs: 300 });
    expect(outcome.failure?.side).toBe('timeout');
  });
});
