import { readIfExists, writeFileAtomic } from './safe-fs.js';

/**
 * A root-only secret kept in the state dir (0600): generated once, then re-used, so every
 * re-run of a step renders the same files and converges to the same state.
 */
export async function ensureSecret(path: string, generate: () => string): Promise<string> {
  const existing = (await readIfExists(path))?.trim();
  if (existing) return existing;
  const value = generate();
  await writeFileAtomic(path, `${value}\n`, { mode: 0o600 });
  return value;
}
