import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** `left | right` with both exit statuses checked (what a careful person's `set -o pipefail` gives). */
export function pipe(left: readonly string[], right: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const a = spawn(left[0]!, left.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const b = spawn(right[0]!, right.slice(1), { env, stdio: ['pipe', 'ignore', 'inherit'] });
    a.stdout.pipe(b.stdin);
    let pending = 2;
    const done = (name: string) => (code: number | null) => {
      if (code !== 0) reject(new Error(`${name} exited with ${code}`));
      else if (--pending === 0) resolve();
    };
    a.on('close', done(left[0]!));
    b.on('close', done(right[0]!));
  });
}

/** Seconds the task took. */
export async function timed(task: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await task();
  return (performance.now() - started) / 1000;
}
