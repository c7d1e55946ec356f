import { homedir } from 'node:os';
import { hideBin } from 'yargs/helpers';
import { buildCli } from './cli.js';
import type { Io } from './context.js';
import { describeError, EXIT, exitCodeOf, UsageError } from './errors.js';

function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return Promise.reject(new UsageError('--token-stdin: pipe the token in (stdin is a terminal)'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errStream: process.stderr,
  readStdin,
  interactive: Boolean(process.stdout.isTTY && process.stderr.isTTY),
  env: process.env,
  home: homedir(),
  now: () => new Date(),
};

async function main(): Promise<number> {
  try {
    await buildCli(hideBin(process.argv), io).parseAsync();
    return EXIT.ok;
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n`);
    if (error instanceof UsageError) process.stderr.write('(pressluftctl --help lists the commands and options)\n');
    return exitCodeOf(error);
  }
}

// process.exitCode, not exit(): stdout is flushed before the process ends.
void main().then((code) => {
  process.exitCode = code;
});
