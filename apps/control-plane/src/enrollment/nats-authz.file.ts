import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Replaces `path` with `content` atomically (temp file in the same directory + rename); creates the directory. */
export function writeFileAtomically(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temp, content, { mode });
  chmodSync(temp, mode);
  renameSync(temp, path);
}

/** Asks nats-server to reload its configuration: SIGHUP to the PID in its pid_file. */
export function reloadNatsServer(pidFile: string): number {
  const text = readFileSync(pidFile, 'utf8').trim();
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new Error(`${pidFile} does not hold a process id`);
  const pid = Number(text);
  process.kill(pid, 'SIGHUP');
  return pid;
}

/**
 * Writes the authorization include file when its content differs and then reloads nats-server
 * (when a PID file is configured). Returns whether the file changed.
 */
export function applyNatsAuthorization(file: string, content: string, pidFile: string | undefined): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  // Holds no secret (subjects and permissions only); nats-server may run as another user.
  writeFileAtomically(file, content, 0o644);
  if (pidFile) reloadNatsServer(pidFile);
  return true;
}
