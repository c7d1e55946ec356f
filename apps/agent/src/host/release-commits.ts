import { join } from 'node:path';
import { z } from 'zod';
import { COMMIT_ID } from './git.js';
import type { SitePaths } from './naming.js';
import { readIfExists, writeFileAtomic } from './safe-fs.js';

/** <state>/release-commits.json: release -> the commit it was built from (root's, in the root-only state dir). */
function recordPath(paths: SitePaths): string {
  return join(paths.state, 'release-commits.json');
}

const recordSchema = z.record(z.string(), z.string().regex(COMMIT_ID));

async function readRecord(paths: SitePaths): Promise<Record<string, string>> {
  const text = await readIfExists(recordPath(paths));
  if (text === undefined) return {};
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    // Written atomically, so never half: anything else there records no commit.
    return {};
  }
}

/** Records `release`'s commit (atomically), keeping only the releases still on disk. */
export async function recordReleaseCommit(paths: SitePaths, release: string, commit: string, releases: readonly string[]): Promise<void> {
  const record: Record<string, string> = {};
  for (const [name, id] of Object.entries(await readRecord(paths))) if (releases.includes(name)) record[name] = id;
  record[release] = commit;
  await writeFileAtomic(recordPath(paths), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

/** The commit a release was built from; '' when it had no code from git or is not recorded. */
export async function releaseCommit(paths: SitePaths, release: string | undefined): Promise<string> {
  return release === undefined ? '' : ((await readRecord(paths))[release] ?? '');
}
