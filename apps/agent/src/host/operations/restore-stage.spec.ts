import { describe, expect, it } from 'vitest';
import type { RestorePart } from '@pressluft/agent-runtime';
import { needsRelease, restoreScope, type RestoreScope } from './restore-stage.js';

describe('restoreScope', () => {
  it.each<[RestorePart[], RestoreScope, boolean]>([
    [[], { code: true, database: true, uploads: true }, true],
    [['code', 'database', 'uploads'], { code: true, database: true, uploads: true }, true],
    [['database'], { code: false, database: true, uploads: false }, true],
    [['uploads'], { code: false, database: false, uploads: true }, false],
    [['database', 'uploads'], { code: false, database: true, uploads: true }, true],
    [['code'], { code: true, database: false, uploads: false }, true],
  ])('%j restores %j (a release of its own: %s)', (parts, scope, release) => {
    expect(restoreScope(parts)).toEqual(scope);
    expect(needsRelease(scope)).toBe(release);
  });
});
