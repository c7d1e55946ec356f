import { Dir } from '../safe-fs.js';
import type { HostSettings } from '../settings.js';

/** An ACME token as a file name: base64url only (RFC 8555 8.1), never a path. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export function checkToken(token: string): string {
  if (!TOKEN_PATTERN.test(token)) throw new InvalidTokenError(`ACME token ${JSON.stringify(token.slice(0, 80))} is not base64url: not used as a file name`);
  return token;
}

/**
 * fn with <stateDir>/acme/challenges (root's, 0755 below <stateDir>/acme 0711): reached from the
 * configured state dir one component at a time, never through a symlink.
 */
async function withChallengeDir<T>(settings: HostSettings, fn: (dir: Dir) => Promise<T>): Promise<T> {
  return Dir.with(settings.stateDir, [], async (state) => {
    const acme = await state.ensureDir('acme', { mode: 0o711 });
    try {
      const challenges = await acme.ensureDir('challenges', { mode: 0o755 });
      try {
        return await fn(challenges);
      } finally {
        await challenges.close();
      }
    } finally {
      await acme.close();
    }
  });
}

/**
 * http-01: the key authorization as <challenges>/<token> (root's, 0644), which every site's server
 * block serves at /.well-known/acme-challenge/<token>. Returns its removal.
 */
export async function presentHttp01(settings: HostSettings, token: string, keyAuthorization: string): Promise<() => Promise<void>> {
  const name = checkToken(token);
  await withChallengeDir(settings, (dir) => dir.writeFileAtomic(name, keyAuthorization, { mode: 0o644 }));
  return () => withChallengeDir(settings, (dir) => dir.unlink(name));
}
