import type { ManifestInput } from '@pressluft/domain';
import { describe, expect, it } from 'vitest';
import { LAST_APPLIED_ANNOTATION, takeCredentials, withoutAppliedCredentials } from './write-only-credentials.js';

const credentials = { password: 'hunter2hunter2' };
const applied = JSON.stringify({ apiVersion: 'pressluft.io/v1', kind: 'BackupStore', metadata: { name: 'offsite' }, spec: { repository: '/srv/backups', credentials } });

function input(spec: unknown, annotations: Record<string, string> = {}): ManifestInput {
  return { name: 'offsite', labels: {}, annotations, finalizers: undefined, resourceVersion: undefined, uid: undefined, spec };
}

describe('takeCredentials', () => {
  it("takes a BackupStore's credentials out of the spec and out of kubectl's last-applied annotation", () => {
    const taken = takeCredentials('BackupStore', input({ repository: '/srv/backups', credentials }, { [LAST_APPLIED_ANNOTATION]: applied, team: 'ops' }));
    expect(taken.credentials).toEqual(credentials);
    expect(taken.input.spec).toEqual({ repository: '/srv/backups' });
    expect(taken.input.annotations['team']).toBe('ops');
    expect(JSON.parse(taken.input.annotations[LAST_APPLIED_ANNOTATION] ?? '')).toEqual({
      apiVersion: 'pressluft.io/v1',
      kind: 'BackupStore',
      metadata: { name: 'offsite' },
      spec: { repository: '/srv/backups' },
    });
    expect(JSON.stringify(taken.input)).not.toContain('hunter2');
  });

  it('answers no credentials for a write without them', () => {
    const taken = takeCredentials('BackupStore', input({ repository: '/srv/backups' }));
    expect(taken.credentials).toBeUndefined();
    expect(taken.input.spec).toEqual({ repository: '/srv/backups' });
  });

  it("takes a Site's credentials out the same way", () => {
    const key = { dnsApiToken: 'token-123456' };
    const manifest = JSON.stringify({ kind: 'Site', metadata: { name: 'shop' }, spec: { domains: ['a.example.test'], credentials: key } });
    const taken = takeCredentials('Site', input({ domains: ['a.example.test'], credentials: key }, { [LAST_APPLIED_ANNOTATION]: manifest }));
    expect(taken.credentials).toEqual(key);
    expect(taken.input.spec).toEqual({ domains: ['a.example.test'] });
    expect(JSON.stringify(taken.input)).not.toContain('token-123456');
  });

  it('leaves other kinds alone', () => {
    const node = input({ provider: 'static' }, { [LAST_APPLIED_ANNOTATION]: applied });
    expect(takeCredentials('Node', node)).toEqual({ input: node, credentials: undefined });
  });
});

describe('withoutAppliedCredentials', () => {
  it.each<[string, string, string | undefined]>([
    ['a manifest without credentials stays as it is', '{"spec":{"repository":"/x"}}', '{"spec":{"repository":"/x"}}'],
    ['credentials go', '{"kind":"BackupStore","spec":{"repository":"/x","credentials":{"password":"p"}}}', '{"kind":"BackupStore","spec":{"repository":"/x"}}\n'],
    ['a spec that is not an object stays', '{"spec":"x"}', '{"spec":"x"}'],
    ['not JSON: dropped (it cannot be shown to hold no secret)', '{"spec":{"credentials":', undefined],
    ['a JSON array: dropped', '[1]', undefined],
  ])('%s', (_case, annotation, expected) => {
    expect(withoutAppliedCredentials(annotation)).toBe(expected);
  });
});
