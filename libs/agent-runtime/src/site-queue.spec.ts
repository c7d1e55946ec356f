import { describe, expect, it } from 'vitest';
import { SerialQueue } from './site-queue.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('SerialQueue', () => {
  it('runs the tasks of one key one at a time, in order, past a failure; other keys beside them', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const task = (name: string, fail = false) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      if (fail) throw new Error(name);
      return name;
    };
    const a1 = queue.run('a', task('a1', true));
    const a2 = queue.run('a', task('a2'));
    const b1 = queue.run('b', task('b1'));
    expect(queue.busy('a')).toBe(true);
    await expect(a1).rejects.toThrow('a1');
    expect(await a2).toBe('a2');
    expect(await b1).toBe('b1');
    expect(log.filter((l) => l.startsWith('a'))).toEqual(['a1 start', 'a1 end', 'a2 start', 'a2 end']);
    expect(log.indexOf('b1 start')).toBeLessThan(log.indexOf('a1 end'));
    await queue.settled();
    expect(queue.busy('a')).toBe(false);
    expect(queue.busy('b')).toBe(false);
  });
});
