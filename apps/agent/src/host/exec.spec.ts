import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exec } from './exec.js';

describe('exec', () => {
  it('runs an argv array and returns its exit code and output', async () => {
    expect(await exec(['/bin/echo', 'a b', '$HOME'])).toEqual({ code: 0, signal: null, stdout: 'a b $HOME\n', stderr: '' });
  });

  it('hands the running child to onSpawn right after spawn', async () => {
    let cmdline = '';
    const result = await exec(['/bin/sleep', '0.3'], {
      onSpawn: (pid) => {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
        return Promise.resolve();
      },
    });
    expect(cmdline).toBe('/bin/sleep 0.3');
    expect(result.code).toBe(0);
  });

  it('kills the child and rejects with the reason when onSpawn fails', async () => {
    const started = Date.now();
    await expect(exec(['/bin/sleep', '30'], { onSpawn: () => Promise.reject(new Error('no cgroup for you')) })).rejects.toThrow('no cgroup for you');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('keeps the tail of each stream up to maxOutputBytes and reads the rest to the end', async () => {
    const script = 'head -c 300000 /dev/zero | tr "\\0" x; echo END; head -c 200000 /dev/zero | tr "\\0" y >&2; echo FAIL >&2; exit 3';
    const result = await exec(['/bin/sh', '-c', script], { maxOutputBytes: 1000 });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe(`[... 299004 bytes dropped]\n${'x'.repeat(996)}END\n`);
    expect(result.stderr).toBe(`[... 199005 bytes dropped]\n${'y'.repeat(995)}FAIL\n`);
  });

  it('ends soon after the child even when a descendant keeps its pipes open', async () => {
    const started = Date.now();
    const result = await exec(['/bin/sh', '-c', 'sleep 30 & echo $!']);
    process.kill(Number(result.stdout), 'SIGKILL');
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\n$/) as unknown });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
