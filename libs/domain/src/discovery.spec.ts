import { describe, expect, it } from 'vitest';
import { buildApiGroup, buildApiGroupList, buildApiResourceList } from './discovery.js';

describe('buildApiResourceList', () => {
  const list = buildApiResourceList() as { kind: string; groupVersion: string; resources: Record<string, unknown>[] };

  it('is an APIResourceList for pressluft.io/v1', () => {
    expect(list).toMatchObject({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'pressluft.io/v1' });
  });

  it.each([
    ['nodes', 'node', 'Node', ['nd'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']],
    ['sites', 'site', 'Site', ['st'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']],
    ['events', 'event', 'Event', ['ev'], ['get', 'list', 'watch']],
    ['commands', 'command', 'Command', ['cmd'], ['get', 'list', 'watch']],
    ['backupstores', 'backupstore', 'BackupStore', ['bs'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']],
    ['backups', 'backup', 'Backup', ['bk'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']],
    ['restores', 'restore', 'Restore', ['rs'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']],
  ])('serves %s', (name, singularName, kind, shortNames, verbs) => {
    expect(list.resources.find((r) => r['name'] === name)).toEqual({ name, singularName, namespaced: false, kind, verbs, shortNames, categories: ['pressluft'] });
  });

  it('lists no subresource yet (rollback arrives with releases)', () => {
    expect(list.resources.filter((r) => String(r['name']).includes('/'))).toEqual([]);
  });

  it('hands out copies, so callers cannot change the registry', () => {
    (list.resources[0]!['verbs'] as string[]).push('deletecollection');
    expect((buildApiResourceList() as typeof list).resources[0]!['verbs']).not.toContain('deletecollection');
  });
});

describe('group discovery', () => {
  it('builds the APIGroup', () => {
    expect(buildApiGroup()).toEqual({
      kind: 'APIGroup',
      apiVersion: 'v1',
      name: 'pressluft.io',
      versions: [{ groupVersion: 'pressluft.io/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'pressluft.io/v1', version: 'v1' },
    });
  });

  it('builds the APIGroupList', () => {
    expect(buildApiGroupList()).toEqual({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [{ name: 'pressluft.io', versions: [{ groupVersion: 'pressluft.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'pressluft.io/v1', version: 'v1' } }],
    });
  });
});
