import { describe, expect, it } from 'vitest';
import { KINDS, isKindName, kindByName, kindByPlural, kindByResourceName } from './kinds.js';

describe('KINDS', () => {
  it.each([
    ['Node', 'nodes', 'node', ['nd'], true, true],
    ['Site', 'sites', 'site', ['st'], true, true],
    ['BackupStore', 'backupstores', 'backupstore', ['bs'], true, true],
    ['Backup', 'backups', 'backup', ['bk'], true, true],
    ['Restore', 'restores', 'restore', ['rs'], true, true],
    ['Event', 'events', 'event', ['ev'], true, false],
    ['Command', 'commands', 'command', ['cmd'], true, false],
  ] as const)('%s: %s/%s %j served=%s writable=%s', (kind, plural, singular, shortNames, served, userWritable) => {
    expect(kindByName(kind)).toMatchObject({ kind, plural, singular, shortNames, served, userWritable });
    expect(kindByPlural(plural)?.kind).toBe(kind);
    expect(kindByResourceName(singular)?.kind).toBe(kind);
    expect(kindByResourceName(shortNames[0])?.kind).toBe(kind);
  });

  it.each(KINDS.map((k) => [k.kind, k.userWritable] as const))('%s verbs follow writability (%s)', (kind, writable) => {
    expect(kindByName(kind)?.verbs).toEqual(writable ? ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] : ['get', 'list', 'watch']);
  });

  it('has no name clash between plurals, singulars and short names', () => {
    const names = KINDS.flatMap((k) => [k.plural, k.singular, ...k.shortNames]);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(['Sites', 'site', 'pods', '', 'constructor'])('kindByPlural(%j) is undefined', (plural) => {
    expect(kindByPlural(plural)).toBeUndefined();
  });

  it.each(['site', 'SITE', 'Pod', '', 'toString'])('kindByName(%j) is undefined', (name) => {
    expect(kindByName(name)).toBeUndefined();
  });

  it.each([
    ['Site', true],
    ['Event', true],
    ['site', false],
    [1, false],
  ])('isKindName(%j) = %s', (value, expected) => expect(isKindName(value)).toBe(expected));
});
