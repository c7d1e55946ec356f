import { describe, expect, it } from 'vitest';
import { BackgroundLoop, periodicLoop } from './background-loop.js';

describe('BackgroundLoop', () => {
  it('runs its body once however often it is started, and stop() waits for the body to return', async () => {
    let rounds = 0;
    let bodies = 0;
    const loop = new BackgroundLoop(async (self) => {
      bodies += 1;
      while (self.running) {
        rounds += 1;
        await self.pause(1);
      }
    });
    expect(loop.running).toBe(false);
    loop.start();
    loop.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(loop.running).toBe(true);
    await loop.stop();
    const after = rounds;
    await new Promise((r) => setTimeout(r, 20));
    expect(bodies).toBe(1);
    expect(rounds).toBe(after);
    expect(after).toBeGreaterThan(1);
    expect(loop.running).toBe(false);
  });

  it('ends a long pause at once on wake() and on stop()', async () => {
    const woken: number[] = [];
    const loop = new BackgroundLoop(async (self) => {
      while (self.running) {
        const started = Date.now();
        await self.pause(60_000);
        woken.push(Date.now() - started);
      }
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 10));
    loop.wake();
    await new Promise((r) => setTimeout(r, 10));
    const stopping = Date.now();
    await loop.stop();
    expect(Date.now() - stopping).toBeLessThan(1000);
    expect(woken).toHaveLength(2);
    expect(woken.every((ms) => ms < 1000)).toBe(true);
  });

  it('runs the interrupt on stop (to end a wait the body is blocked in) before waiting for the body', async () => {
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const order: string[] = [];
    const loop = new BackgroundLoop(
      async () => {
        await blocked;
        order.push('body returned');
      },
      () => {
        order.push('interrupted');
        release();
      },
    );
    loop.start();
    await loop.stop();
    expect(order).toEqual(['interrupted', 'body returned']);
  });

  it('does not pause once stopped', async () => {
    const loop = new BackgroundLoop(() => Promise.resolve());
    const started = Date.now();
    await loop.pause(60_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('periodicLoop', () => {
  it('runs its work every period (not at start), goes on after a failure, and stops at once', async () => {
    const rounds: number[] = [];
    const errors: unknown[] = [];
    const started = Date.now();
    const loop = periodicLoop(
      15,
      () => {
        rounds.push(Date.now() - started);
        return rounds.length === 1 ? Promise.reject(new Error('first round fails')) : Promise.resolve();
      },
      (error) => errors.push(error),
    );
    loop.start();
    expect(rounds).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    const stopping = Date.now();
    await loop.stop();
    expect(Date.now() - stopping).toBeLessThan(15);
    const after = rounds.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(rounds.length).toBe(after);
    expect(after).toBeGreaterThanOrEqual(3);
    expect(rounds[0]).toBeGreaterThanOrEqual(14);
    expect(errors).toHaveLength(1);
  });
});
