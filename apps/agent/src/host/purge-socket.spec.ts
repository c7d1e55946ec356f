import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@pressluft/platform';
import { afterAll, describe, expect, it } from 'vitest';
import { Coalescer, PURGE_INTERVAL_MS, PurgeSockets } from './purge-socket.js';

const logger = createLogger({ name: 'purge-socket-test', level: 'silent' });

/** Sends `data` (then half-closes when asked) and collects what comes back until the server ends. */
function talk(path: string, data: string, end = true): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(path, () => {
      socket.write(data);
      if (end) socket.end();
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
  });
}

describe('Coalescer', () => {
  it('runs a burst once, and what comes during a run once more, no sooner than the interval', async () => {
    const starts: number[] = [];
    let release: () => void = () => undefined;
    const coalescer = new Coalescer(() => {
      starts.push(Date.now());
      return new Promise<void>((resolve) => (release = resolve));
    }, 100);
    const burst = Array.from({ length: 5 }, () => coalescer.request());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(starts).toHaveLength(1);
    const during = [coalescer.request(), coalescer.request()];
    release();
    await Promise.all(burst);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(starts).toHaveLength(2);
    release();
    await Promise.all(during);
    expect((starts[1] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(95);
  });
});

describe('PurgeSockets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purge-socket-'));
  const path = join(dir, 'purge.sock');
  const sockets = new PurgeSockets(logger);
  let purges = 0;
  const purgedAt: number[] = [];
  const ensure = () =>
    sockets.ensure(
      path,
      () => Promise.resolve(4242),
      () => {
        purges++;
        purgedAt.push(Date.now());
        return Promise.resolve();
      },
    );

  afterAll(async () => {
    await sockets.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens as root with the site group, 0660, replacing a stale socket', async () => {
    await ensure();
    await ensure();
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect([st.uid, st.gid]).toEqual([0, 4242]);
  });

  it('purges on `purge` and answers ok once done', async () => {
    const before = purges;
    expect(await talk(path, 'purge\n')).toBe('ok\n');
    expect(purges).toBe(before + 1);
  });

  it('refuses anything else, and a line that does not end', async () => {
    const before = purges;
    expect(await talk(path, 'purge all\n')).toBe('error\n');
    expect(await talk(path, 'x'.repeat(64), false)).toBe('');
    expect(purges).toBe(before);
  });

  it('coalesces a burst: the first purge at once, the rest of the burst in one more, a second later', async () => {
    await new Promise((resolve) => setTimeout(resolve, PURGE_INTERVAL_MS));
    const before = purges;
    const answers = await Promise.all(Array.from({ length: 6 }, () => talk(path, 'purge\n')));
    expect(answers).toEqual(Array.from({ length: 6 }, () => 'ok\n'));
    expect(purges - before).toBeGreaterThanOrEqual(1);
    expect(purges - before).toBeLessThanOrEqual(2);
    const [first, second] = purgedAt.slice(before);
    if (second !== undefined) expect(second - (first ?? 0)).toBeGreaterThanOrEqual(PURGE_INTERVAL_MS - 5);
  });

  it('closes and removes the socket', async () => {
    await sockets.close(path);
    expect(existsSync(path)).toBe(false);
  });
});
